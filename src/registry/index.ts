/** Public surface of the registry module. */
export { createRegistryClient, sha256Digest } from './client.js';
export type { ManifestAnswer, RegistryClient, RegistryClientOptions } from './client.js';
export { ImageNotFoundError } from './errors.js';
export { MANIFEST_ACCEPT, MediaType, isIndexMediaType } from './media-types.js';
export { formatPlatform, isAttestationEntry, normalizePlatform, parsePlatform, pickPlatformEntry } from './platform.js';
export type { IndexEntry } from './platform.js';
export { defaultDockerConfigPath } from './credentials.js';
export { formatReference, isLoopbackRegistry, normalizeReference, parseReference, repositoryOf } from './reference.js';
export type { ImageReference, RegistryReader, ResolvedImage, TargetPlatform } from './types.js';
