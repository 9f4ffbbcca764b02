/** How paths appear in messages, the same everywhere. */
import path from 'node:path';

/** A path as the user would name it: relative to the working directory when inside it (and so shorter). */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) && rel.length < abs.length ? rel : abs;
}
