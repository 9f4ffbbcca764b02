/** The manifest module's public surface. */
export { describeFilter, isEmptyFilter, matchesFilter, type FilterablePlatform, type PlatformFilter } from './filter.js';
export { loadManifest, type LoadManifestOptions } from './load.js';
export * from './types.js';
export { parseJsonText } from './source.js';
