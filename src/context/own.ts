/**
 * imagewright's own files never enter a build context or a key: the `.imagewright/` folder (build
 * logs) wherever it is, and the image-info files a run reads and writes with their lock, takeover
 * and temporary siblings. Were they context, every run that writes image-info would change the key
 * of any image whose context holds it, and nothing would ever be reused.
 *
 * They are left out by ignore patterns appended after the context's own ignore file, in hashing
 * (context/hash.ts) and in the ignore file the build reads (execute/workspace.ts): one list, so the
 * key covers exactly what the engine receives.
 */
import path from 'node:path';
import { toPosix } from './paths.js';

/** The folder imagewright keeps its logs in (`build --log-dir` default). */
export const OWN_FOLDER = '.imagewright';

/**
 * `.dockerignore` lines (context-relative) that leave imagewright's own files out of the context
 * `contextDir`. `imageInfoFiles` are the image-info paths of this run (absolute or relative to the
 * working folder); those outside the context need no pattern.
 */
export function ownFilePatterns(contextDir: string, imageInfoFiles: readonly string[]): string[] {
  const root = path.resolve(contextDir);
  const patterns = [OWN_FOLDER, `**/${OWN_FOLDER}`];
  for (const file of new Set(imageInfoFiles.map((f) => path.resolve(f)))) {
    const rel = path.relative(root, file);
    if (rel === '' || rel.split(path.sep)[0] === '..' || path.isAbsolute(rel)) continue;
    const posix = toPosix(rel);
    const dir = path.posix.dirname(posix);
    const hidden = `.${path.posix.basename(posix)}`;
    patterns.push(
      escapePattern(posix),
      // `<file>.lock`, its takeover markers and temporaries.
      `${escapePattern(posix)}.*`,
      // Atomic writes' temporaries: `.<file>.<pid>.<random>.tmp`.
      `${escapePattern(dir === '.' ? hidden : `${dir}/${hidden}`)}.*`,
    );
  }
  return patterns;
}

/** A path as an ignore pattern that matches only itself (Docker's matcher escapes with `\`). */
function escapePattern(rel: string): string {
  return rel.replace(/[\\*?[\]]/g, '\\$&');
}
