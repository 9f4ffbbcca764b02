/**
 * Writing image-info files: the key order ImageBuilder writes (its model's property order), then
 * fields this module does not know in the order they came, then imagewright's additions. Lists
 * ImageBuilder leaves out when empty (simpleTags, layers, syndicatedDigests) are left out too, as
 * are `isUnchanged: false` and an index digest not known yet. Two-space indent, trailing newline.
 */
import { writeFileAtomic } from '../atomic-write.js';
import type { ImageInfo, ImageRecord, RepoRecord } from './types.js';

type JsonObject = Record<string, unknown>;

/** Writes `info` to `file` so that readers see the old content or the new, never a part. */
export async function writeImageInfo(file: string, info: ImageInfo): Promise<void> {
  await writeImageInfoText(file, serializeImageInfo(info));
}

/** Writes serialized image-info (`serializeImageInfo`) to `file` so that readers see the old content or the new, never a part. */
export async function writeImageInfoText(file: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(file, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${file}: cannot write image info (${code ?? String(error)})`, { cause: error });
  }
}

/** One image record's text as it appears in the file, its lines after the first indented by `indent`. */
export type ImageText = (image: ImageRecord, indent: string) => string;

/**
 * The file content `writeImageInfo` writes: what `JSON.stringify(…, null, 2)` writes for the
 * ordered tree, assembled repo by repo so that a caller can pass each image's text from a cache
 * (`imageText`): rewriting a big file after one change then costs a copy, not a serialization.
 */
export function serializeImageInfo(info: ImageInfo, imageText: ImageText = serializeImage): string {
  const top = ordered(info as unknown as JsonObject, ['schemaVersion', 'repos'], [], (key, value) => (key === 'schemaVersion' ? '2.0' : value));
  const text = objectText(top, '', (key, value, indent) =>
    key === 'repos' ? listText(value as RepoRecord[], indent, (r, at) => repoText(r, at, imageText)) : undefined,
  );
  return `${text}\n`;
}

/** One image record as `serializeImageInfo` writes it at `indent`. */
export function serializeImage(record: ImageRecord, indent: string): string {
  return jsonAt(image(record as unknown as JsonObject), indent);
}

function repoText(r: RepoRecord, indent: string, imageText: ImageText): string {
  const o = ordered(r as unknown as JsonObject, ['repo', 'images'], [], keep);
  return objectText(o, indent, (key, value, at) => (key === 'images' ? listText(value as ImageRecord[], at, imageText) : undefined));
}

/** `value` as `JSON.stringify(value, null, 2)` writes it on a line indented by `indent`. */
function jsonAt(value: unknown, indent: string): string {
  const text = JSON.stringify(value, null, 2);
  return indent ? text.replace(/\n/g, `\n${indent}`) : text;
}

/** An object as `JSON.stringify(o, null, 2)` writes it at `indent`; `special` may supply a value's text. */
function objectText(o: JsonObject, indent: string, special: (key: string, value: unknown, indent: string) => string | undefined): string {
  const keys = Object.keys(o).filter((key) => o[key] !== undefined);
  if (keys.length === 0) return '{}';
  const inner = `${indent}  `;
  const lines = keys.map((key) => `${inner}${JSON.stringify(key)}: ${special(key, o[key], inner) ?? jsonAt(o[key], inner)}`);
  return `{\n${lines.join(',\n')}\n${indent}}`;
}

function listText<T>(items: readonly T[], indent: string, itemText: (item: T, indent: string) => string): string {
  if (items.length === 0) return '[]';
  const inner = `${indent}  `;
  return `[\n${items.map((item) => `${inner}${itemText(item, inner)}`).join(',\n')}\n${indent}]`;
}

function image(i: JsonObject): JsonObject {
  return ordered(i, ['productVersion', 'manifest', 'platforms'], [], (key, value) =>
    key === 'manifest' ? manifest(value as JsonObject) : key === 'platforms' ? (value as JsonObject[]).map(platform) : value,
  );
}

function manifest(m: JsonObject): JsonObject {
  return ordered(m, ['digest', 'syndicatedDigests', 'created', 'sharedTags'], [], (key, value) =>
    key === 'digest' ? value || undefined : key === 'syndicatedDigests' ? nonEmpty(value) : value,
  );
}

const platformKeys = ['dockerfile', 'simpleTags', 'digest', 'baseImageDigest', 'osType', 'osVersion', 'architecture', 'created', 'commitUrl', 'layers', 'isUnchanged'];
const platformAdditions = ['variant', 'buildKey', 'fromImages', 'inputs'];

function platform(p: JsonObject): JsonObject {
  return ordered(p, platformKeys, platformAdditions, (key, value) => {
    switch (key) {
      case 'simpleTags':
        return nonEmpty(value);
      case 'layers':
        return nonEmpty(value)?.map((layer) => ordered(layer as JsonObject, ['digest', 'size'], [], keep));
      case 'isUnchanged':
        return value === true ? true : undefined;
      case 'fromImages':
        return (value as JsonObject[]).map((read) => ordered(read, ['stage', 'instruction', 'ref', 'digest', 'internal', 'buildKey'], [], keep));
      case 'inputs':
        return ordered(value as JsonObject, ['keyVersion', 'dockerfile', 'context', 'contextFiles', 'buildArgs', 'platform', 'buildPlatform'], [], (k, v) =>
          k === 'contextFiles' || k === 'buildArgs' ? sortedKeys(v as JsonObject) : v,
        );
      default:
        return value;
    }
  });
}

/**
 * A copy of `o` with `known` keys first, then keys not named in either list, then `additions`.
 * `transform` maps each known or added value; undefined leaves the key out.
 */
function ordered(o: JsonObject, known: string[], additions: string[], transform: (key: string, value: unknown) => unknown): JsonObject {
  const out: JsonObject = {};
  const put = (key: string): void => {
    const value = o[key] === undefined ? undefined : transform(key, o[key]);
    if (value !== undefined) out[key] = value;
  };
  known.forEach(put);
  for (const key of Object.keys(o)) if (!known.includes(key) && !additions.includes(key) && o[key] !== undefined) out[key] = o[key];
  additions.forEach(put);
  return out;
}

function keep(_key: string, value: unknown): unknown {
  return value;
}

function nonEmpty(value: unknown): unknown[] | undefined {
  return Array.isArray(value) && value.length > 0 ? value : undefined;
}

function sortedKeys(o: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
