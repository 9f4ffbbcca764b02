/**
 * The pinned Dockerfile a build runs from. It lives in a temporary folder outside the build
 * context, so the context the engine sees is exactly the one whose hash entered the build key.
 */
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export interface PinnedDockerfile {
  /** Path to pass as `-f`. */
  path: string;
  /** Remove the temporary folder. */
  dispose(): Promise<void>;
}

/**
 * Write `text` as a temporary Dockerfile named like `original`. BuildKit reads the ignore file
 * `<Dockerfile>.dockerignore` beside the -f file in place of the context's `.dockerignore`, so the
 * platform's own ignore file (its Dockerfile-specific one, else the context's) is copied beside it,
 * followed by `ownFiles` (ContextHash.ownFiles), the lines that keep imagewright's files out.
 */
export async function writePinnedDockerfile(original: string, contextDir: string, text: string, ownFiles: readonly string[] = []): Promise<PinnedDockerfile> {
  const dir = await mkdtemp(join(tmpdir(), 'imagewright-dockerfile-'));
  const dispose = (): Promise<void> => rm(dir, { recursive: true, force: true });
  try {
    const path = join(dir, basename(original));
    await writeFile(path, text);
    const ignore = (await firstExisting([`${original}.dockerignore`, join(contextDir, '.dockerignore')])) ?? undefined;
    const rules = ignore ? await readFile(ignore, 'utf8') : undefined;
    const own = ownFiles.map((line) => `${line}\n`).join('');
    const separator = rules && own && !rules.endsWith('\n') ? '\n' : '';
    if (rules !== undefined || own) await writeFile(`${path}.dockerignore`, `${rules ?? ''}${separator}${own}`);
    return { path, dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function firstExisting(paths: string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      await access(path);
      return path;
    } catch {
      // try the next one
    }
  }
  return undefined;
}
