/** Public surface of the registry module (the one room that talks HTTP to registries). */
export { createRegistryClient } from './client.js';
export type { ManifestAnswer, RegistryClient, RegistryClientOptions } from './client.js';
export { MANIFEST_ACCEPT, MediaType, isIndexMediaType } from './media-types.js';
export { defaultDockerConfigPath } from './credentials.js';
export type { RegistryReader, ResolvedImage } from './types.js';
