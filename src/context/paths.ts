import path from 'node:path';

export function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

export { displayPath } from '../paths.js';

export function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
