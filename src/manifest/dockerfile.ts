/**
 * Resolves a platform's `dockerfile` entry as ImageBuilder does (a file, or else a folder holding
 * `Dockerfile`), and refuses anything outside the manifest's folder, including through symlinks,
 * because the build context would then be files the repository does not control.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { isWithin } from '../paths.js';

export interface ResolvedDockerfile {
  /** Relative to the manifest folder, POSIX separators. */
  relative: string;
  absolute: string;
  contextDir: string;
}

export type Resolution = { ok: ResolvedDockerfile } | { problem: string };

type Kind = 'file' | 'directory' | 'other' | 'missing' | 'outside';

/**
 * Synchronous on purpose: a thousand lstat calls take a few milliseconds inline, several times that
 * as promises through the thread pool, and nothing else runs while a manifest loads. Each path prefix
 * is inspected once, so sibling platforms cost about one lstat each.
 */
export class DockerfileResolver {
  private readonly resolutions = new Map<string, Resolution>();
  private readonly kinds = new Map<string, Kind>([['.', 'directory']]);
  private realDir?: string;

  constructor(private readonly manifestDir: string) {}

  resolve(entry: string): Resolution {
    let resolution = this.resolutions.get(entry);
    if (!resolution) {
      resolution = this.lookUp(entry);
      this.resolutions.set(entry, resolution);
    }
    return resolution;
  }

  private lookUp(entry: string): Resolution {
    const shown = JSON.stringify(entry);
    const slashed = entry.replace(/\\/g, '/');
    if (path.posix.isAbsolute(slashed) || /^[A-Za-z]:\//.test(slashed)) {
      return { problem: `must be a path relative to the manifest's folder, not ${shown}` };
    }
    const normalized = path.posix.normalize(slashed).replace(/\/+$/, '') || '.';
    if (normalized === '..' || normalized.startsWith('../')) {
      return { problem: `${shown} points outside the manifest's folder` };
    }
    let relative = normalized;
    let kind = this.kindOf(relative);
    if (kind === 'directory') {
      relative = normalized === '.' ? 'Dockerfile' : `${normalized}/Dockerfile`;
      kind = this.kindOf(relative);
      if (kind === 'missing' || kind === 'directory') return { problem: `folder ${shown} has no file named Dockerfile` };
    }
    if (kind === 'missing') return { problem: `${shown} does not exist` };
    if (kind === 'outside') return { problem: `${shown} resolves outside the manifest's folder through a symbolic link` };
    if (kind !== 'file') return { problem: `${shown} is neither a file nor a folder` };
    const absolute = path.join(this.manifestDir, relative);
    return { ok: { relative, absolute, contextDir: path.dirname(absolute) } };
  }

  /** What a manifest-relative path is, following symbolic links but only as far as they stay inside. */
  private kindOf(relative: string): Kind {
    let kind = this.kinds.get(relative);
    if (kind) return kind;
    const parent = this.kindOf(path.posix.dirname(relative));
    kind = parent === 'directory' ? this.inspect(path.join(this.manifestDir, relative)) : parent === 'outside' ? 'outside' : 'missing';
    this.kinds.set(relative, kind);
    return kind;
  }

  private inspect(absolute: string): Kind {
    try {
      let info = lstatSync(absolute);
      if (info.isSymbolicLink()) {
        const real = realpathSync.native(absolute);
        this.realDir ??= realpathSync.native(this.manifestDir);
        if (!isWithin(this.realDir, real)) return 'outside';
        info = statSync(real);
      }
      if (info.isFile()) return 'file';
      return info.isDirectory() ? 'directory' : 'other';
    } catch {
      // ENOENT, ENOTDIR (a file used as a folder), ELOOP, a dangling link: no Dockerfile there.
      return 'missing';
    }
  }
}
