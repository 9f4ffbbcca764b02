export { readImageInfo, parseImageInfo } from './read.js';
export { writeImageInfo, writeImageInfoText, serializeImageInfo } from './write.js';
export { findPlatformRecord, identityBucket, recordMatchesPlatform, platformRecordIdentity, osDisplayNames, sameTagSet, type PlatformKey } from './match.js';
export { upsertPlatformRecord, setImageManifest, removePlatformsNotIn, type ImageKey } from './update.js';
export { ImageInfoDocument } from './document.js';
export type * from './types.js';
export { mergeImageInfo, removePlatformsNotInManifest, type ImageInfoSource } from './merge.js';
export { imageInfoForFile, imageInfoForRun, manifestRecordForFile, manifestRecordForRun, platformRecordForFile, recordedDigestForRun, unmatchedImageInfoWarning } from './location.js';
