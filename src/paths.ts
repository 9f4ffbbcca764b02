/** How paths (and other names from a repository) appear in messages, the same everywhere. */
import path from 'node:path';

/**
 * A path as the user would name it: relative to the working directory when inside it (and so shorter).
 * A name that merely begins with two dots (`..hidden`) is inside.
 */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && isWithin(process.cwd(), abs) && rel.length < abs.length ? rel : abs;
}

/** Whether `target` is `dir` or lies below it (both absolute; compare real paths to see through symbolic links). */
export function isWithin(dir: string, target: string): boolean {
  const rel = path.relative(dir, target);
  return rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/**
 * A control character no name, tag, path or value from a manifest or an option may hold: every one
 * but tab, newline included (it would split a message line or a command line).
 */
// eslint-disable-next-line no-control-regex
export const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

/**
 * Text with every control character other than newline and tab written as `\u001b`, so that a
 * name, tag, path or argument from a hostile repository cannot drive the terminal it is shown on
 * (ESC sequences, C1 CSI, NUL, a carriage return overwriting the line).
 */
export function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The longest message line shown; a longer one (a hostile 60 KB name quoted in it) loses its middle. */
export const MESSAGE_MAX_CHARS = 1000;

/**
 * A message as one terminal line: newlines folded, control characters escaped, and at most
 * MESSAGE_MAX_CHARS long. The middle goes, so that the file and location at the start and the
 * problem at the end both stay.
 */
export function messageLine(text: string): string {
  const line = escapeControl(text.replace(/\s*\n\s*/g, ' '));
  if (line.length <= MESSAGE_MAX_CHARS) return line;
  const head = 600;
  const tail = 300;
  return `${line.slice(0, head)}... (${line.length - head - tail} characters left out) ...${line.slice(-tail)}`;
}
