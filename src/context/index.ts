export { CONTEXT_DIGEST_VERSION, clearContextCache, contextDigest, hashContext } from './hash.js';
export type { ContextHash } from './types.js';
