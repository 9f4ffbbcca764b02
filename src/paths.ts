/** How paths (and other names from a repository) appear in messages, the same everywhere. */
import path from 'node:path';

/** A path as the user would name it: relative to the working directory when inside it (and so shorter). */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) && rel.length < abs.length ? rel : abs;
}

/**
 * Text with every control character other than newline and tab written as `\u001b`, so that a
 * name, tag, path or argument from a hostile repository cannot drive the terminal it is shown on
 * (ESC sequences, C1 CSI, NUL, a carriage return overwriting the line).
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
