/**
 * The image labels that carry a platform's image-info record inside the image itself, so that a
 * repository can plan from its registry without a state file. The one place that writes them and
 * reads them back: read back, they are checked exactly as the same fields of an image-info file are
 * (an image in a registry is input like any file, and may have been made by hand or by anyone).
 */
import { LabelError } from '../errors.js';
import { checkRecordParts } from './read.js';
import type { FromImageRecord, InputsRecord } from './types.js';

export const LABEL_BUILD_KEY = 'dev.imagewright.build-key';
/** JSON array of FromImageRecord: every image the build read. */
export const LABEL_FROM_IMAGES = 'dev.imagewright.from-images';
/** JSON InputsRecord: what the build key was computed from, so a changed key can be explained. */
export const LABEL_INPUTS = 'dev.imagewright.inputs';

/** The part of a platform's record its image carries. */
export interface LabelledRecord {
  buildKey: string;
  fromImages: FromImageRecord[];
  inputs?: InputsRecord;
}

/** The labels that carry `record`. */
export function recordLabels(record: LabelledRecord): Record<string, string> {
  return {
    [LABEL_BUILD_KEY]: record.buildKey,
    [LABEL_FROM_IMAGES]: JSON.stringify(record.fromImages),
    ...(record.inputs ? { [LABEL_INPUTS]: JSON.stringify(record.inputs) } : {}),
  };
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
  return { buildKey, fromImages: parts.fromImages ?? [], ...(parts.inputs ? { inputs: parts.inputs } : {}) };
}
