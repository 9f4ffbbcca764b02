/**
 * The image labels that carry a platform's image-info record inside the image itself, so that a
 * repository can plan from its registry without a state file. The one place that writes them and
 * reads them back: read back, they are checked exactly as the same fields of an image-info file are
 * (an image in a registry is input like any file, and may have been made by hand or by anyone).
 */
import { LabelError } from '../errors.js';
import { checkRecordParts } from './read.js';
import type { FromImageRecord, InputsRecord, PlatformRecord } from './types.js';

export const LABEL_BUILD_KEY = 'dev.imagewright.build-key';
/** JSON array of FromImageRecord: every image the build read. */
export const LABEL_FROM_IMAGES = 'dev.imagewright.from-images';
/**
 * JSON InputsRecord without `contextFiles`: what the build key was computed from, so a changed key can
 * be explained. The per-file list stays in image-info: a label is one `docker build` argument, which
 * Linux limits to 128 KB, and a context may hold any number of files.
 */
export const LABEL_INPUTS = 'dev.imagewright.inputs';

/**
 * The id of the matrix plan (`build --plan`) whose leg built the image: a re-run of that leg takes the
 * image for its own first attempt's only when this label says so (shell/plan.ts, earlier attempts).
 */
export const LABEL_PLAN = 'dev.imagewright.plan';

/** The part of a platform's record its image carries. */
export interface LabelledRecord {
  buildKey: string;
  fromImages: FromImageRecord[];
  inputs?: InputsRecord;
  /** The identity of every platform the image was built for. */
  platforms?: PlatformIdentity[];
}

/** The labels that carry `record`. */
export function recordLabels(record: LabelledRecord): Record<string, string> {
  return {
    [LABEL_BUILD_KEY]: record.buildKey,
    [LABEL_FROM_IMAGES]: JSON.stringify(record.fromImages),
    ...(record.inputs ? { [LABEL_INPUTS]: JSON.stringify(withoutFileList(record.inputs)) } : {}),
    ...(record.platforms ? { [LABEL_PLATFORMS]: JSON.stringify(record.platforms) } : {}),
  };
}

function withoutFileList(inputs: InputsRecord): InputsRecord {
  const { contextFiles: _keptInImageInfo, ...rest } = inputs;
  return rest;
}

/**
 * The record `labels` carry, or undefined when the image has no build key label (something else built
 * it). `image` names the image in errors; a malformed label is a LabelError.
 */
export function readRecordLabels(labels: Readonly<Record<string, string>>, image: string): LabelledRecord | undefined {
  const buildKey = labels[LABEL_BUILD_KEY];
  if (!buildKey) return undefined;
  const names = { fromImages: LABEL_FROM_IMAGES, inputs: LABEL_INPUTS } as const;
  const json = (part: keyof typeof names): unknown => {
    const text = labels[names[part]];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LabelError(image, `label ${names[part]}`, 'is not valid JSON');
    }
  };
  const parts = checkRecordParts({ fromImages: json('fromImages'), inputs: json('inputs') }, (part, path, problem) =>
    new LabelError(image, `label ${names[part]}${path ? `: ${path}` : ''}`, problem),
  );
  const platforms = labels[LABEL_PLATFORMS] === undefined ? undefined : toIdentities(labels[LABEL_PLATFORMS], image);
  return { buildKey, fromImages: parts.fromImages ?? [], ...(parts.inputs ? { inputs: parts.inputs } : {}), ...(platforms ? { platforms } : {}) };
}

/** The `dev.imagewright.platforms` label, checked: a list of identities whose fields are strings. */
function toIdentities(text: string, image: string): PlatformIdentity[] {
  let list: unknown;
  try {
    list = JSON.parse(text) as unknown;
  } catch {
    throw new LabelError(image, `label ${LABEL_PLATFORMS}`, 'is not valid JSON');
  }
  if (!Array.isArray(list)) throw new LabelError(image, `label ${LABEL_PLATFORMS}`, 'expected a list');
  return list.map((item: unknown, i) => {
    const where = `label ${LABEL_PLATFORMS}: [${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new LabelError(image, where, 'expected an object');
    const fields = item as Record<string, unknown>;
    const text = (name: string, optional = false): string | undefined => {
      const value = fields[name];
      if (value === undefined && optional) return undefined;
      if (typeof value !== 'string') throw new LabelError(image, `${where}.${name}`, 'expected a string');
      return value;
    };
    const dockerfile = text('dockerfile') as string;
    const tags = fields.simpleTags;
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new LabelError(image, `${where}.simpleTags`, 'expected a list of strings');
    const identity: PlatformIdentity = {
      dockerfile,
      simpleTags: tags as string[],
      osType: text('osType') as string,
      osVersion: text('osVersion') as string,
      architecture: text('architecture') as string,
    };
    const variant = text('variant', true);
    if (variant !== undefined) identity.variant = variant;
    const productVersion = text('productVersion', true);
    if (productVersion !== undefined) identity.productVersion = productVersion;
    return identity;
  });
}
/**
 * JSON array of PlatformIdentity: the record identity (docs/image-info.md) of every platform the image
 * was built for (several when platforms with identical build inputs were built once), so that a
 * record read back from labels is matched to the manifest by the same rule as a record read from a file.
 */
export const LABEL_PLATFORMS = 'dev.imagewright.platforms';

/** A platform record's identity fields, and its image's product version. */
export type PlatformIdentity = Pick<PlatformRecord, 'dockerfile' | 'simpleTags' | 'osType' | 'osVersion' | 'architecture' | 'variant'> & {
  productVersion?: string;
};
