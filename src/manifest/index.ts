/** The manifest module's public surface. */
export { loadManifest, type LoadManifestOptions } from './load.js';
export * from './types.js';
