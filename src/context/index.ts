export { hashContext, clearContextCache } from './hash.js';
export type { ContextHash } from './types.js';
