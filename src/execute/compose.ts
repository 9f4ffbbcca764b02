/**
 * What each build is asked for, decided from the plan alone: the tags it is built under, the labels
 * it carries, the build args it gets. Pure (no engine, registry or file system), so the executor only
 * carries these decisions out, and they are tested without either.
 */
import { digestHex } from '../digest.js';
import { recordLabels, type PlatformIdentity } from '../imageinfo/labels.js';
import { platformRecordIdentity } from '../imageinfo/match.js';
import type { FromImageRecord } from '../imageinfo/types.js';
import { qualifiedTag, type Manifest } from '../manifest/types.js';
import type { PlatformPlan } from '../plan/types.js';
import type { BaseImage } from './inputs.js';
import type { DockerfilePin } from './pin.js';

/**
 * The tags a platform is built under (`registry/repo:tag`): its own tags; without any, its shared tags
 * when nothing is pushed, else a tag derived from its build key, because an image is pushed by tag and
 * its shared tags must name the index, not one platform.
 */
export function buildTags(manifest: Manifest, plan: PlatformPlan, push: boolean): string[] {
  const qualified = (tag: string): string => qualifiedTag(manifest, plan.platform.repo, tag);
  if (plan.tags.length > 0) return plan.tags.map(qualified);
  if (!push) return plan.platform.sharedTags.map(qualified);
  return [qualified(`imagewright-${digestHex(plan.buildKey).slice(0, 16)}`)];
}

export interface ImageLabelsInput {
  plan: PlatformPlan;
  /** Every platform this image is built for (platforms with identical build inputs build once); default: `plan`. */
  group?: readonly PlatformPlan[];
  /** The reads as pinned for this build (what the image-info record will hold). */
  fromImages: FromImageRecord[];
  /** ISO time of the build. */
  created: string;
  /** The final stage's base image, for the OCI base.name/base.digest annotations. */
  base: BaseImage | undefined;
  /** The user's extra labels (e.g. org.opencontainers.image.revision); they may replace `created`, never our record. */
  extra: Readonly<Record<string, string>> | undefined;
}

/** Every label of a built image: the OCI ones, the user's, and the record imagewright reads back (imageinfo/labels.ts). */
export function imageLabels(input: ImageLabelsInput): Record<string, string> {
  const labels: Record<string, string> = {
    'org.opencontainers.image.created': input.created,
    ...input.extra,
    ...recordLabels({ buildKey: input.plan.buildKey, fromImages: input.fromImages, inputs: input.plan.inputs, platforms: (input.group ?? [input.plan]).map(platformIdentity) }),
  };
  if (input.base) {
    labels['org.opencontainers.image.base.name'] = input.base.name;
    labels['org.opencontainers.image.base.digest'] = input.base.digest;
  }
  return labels;
}

/** A platform's record identity and product version, as the image's `dev.imagewright.platforms` label names it. */
function platformIdentity({ platform }: PlatformPlan): PlatformIdentity {
  const identity: PlatformIdentity = platformRecordIdentity(platform);
  if (platform.productVersion !== undefined) identity.productVersion = platform.productVersion;
  return identity;
}

/** A BUILDKIT_SYNTAX build arg overrides the `# syntax=` directive, so its pin goes into the arg. */
export function syntaxOverride(pins: DockerfilePin[], buildArgs: Record<string, string>): { pins: DockerfilePin[]; buildArgs: Record<string, string> } {
  const syntax = pins.find((p) => p.instruction === 'SYNTAX');
  if (!syntax || !Object.hasOwn(buildArgs, 'BUILDKIT_SYNTAX')) return { pins, buildArgs };
  return { pins: pins.filter((p) => p !== syntax), buildArgs: { ...buildArgs, BUILDKIT_SYNTAX: syntax.pinned } };
}
