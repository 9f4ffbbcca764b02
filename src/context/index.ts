export { CONTEXT_DIGEST_VERSION, clearContextCache, contextDigest, hashContext, type HashOptions } from './hash.js';
export { OWN_FOLDER, ownFilePatterns } from './own.js';
export type { ContextHash } from './types.js';
export type { MissingSource } from './reach.js';
