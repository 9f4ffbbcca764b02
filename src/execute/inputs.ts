/**
 * The exact images a platform's build reads: external ones at the digest the plan resolved,
 * internal ones at the image this run produced (or reused) for the upstream. Pure.
 */
import { finalBaseStage } from '../dockerfile/index.js';
import type { DockerfileAnalysis } from '../dockerfile/types.js';
import type { ClassifiedRead } from '../graph/types.js';
import type { FromImageRecord } from '../imageinfo/types.js';
import { formatReference, normalizeReference, parseReference, pinnedReference } from '../reference.js';
import type { DockerfilePin } from './pin.js';

/** What the run knows about an upstream platform's image. */
export interface UpstreamImage {
  /** `sha256:…` in the registry, or '' when the image exists only in the local engine. */
  digest: string;
  /** Fully qualified tags the local engine has for it (builds without --push). */
  localRefs: string[];
}

export interface PinnedReads {
  pins: DockerfilePin[];
  /** `fromImages` with internal digests filled where the build reads a registry image. */
  fromImages: FromImageRecord[];
  /** Per read (parallel to the graph's reads): the reference the build uses; undefined for published ONBUILD triggers. */
  used: Array<string | undefined>;
}

export interface PinOptions {
  /**
   * Line of the final stage's FROM. ONBUILD triggers at or after it travel in the published image and
   * run in downstream builds, which must not be frozen to today's digest; ONBUILD triggers of earlier
   * stages run in this build (when a later stage is FROM them) and are pinned. Without it, no ONBUILD
   * trigger is pinned.
   */
  finalStageLine?: number;
}

/**
 * Pins for every read of one platform. `reads` and `fromImages` are parallel (the planner derives
 * one from the other). Throws when an external read has no resolved digest: building it would not
 * be reproducible from what image-info records.
 */
export function pinReads(
  reads: readonly ClassifiedRead[],
  fromImages: readonly FromImageRecord[],
  upstream: (id: string) => UpstreamImage | undefined,
  options: PinOptions = {},
): PinnedReads {
  const pins: DockerfilePin[] = [];
  const filled: FromImageRecord[] = [];
  const used: Array<string | undefined> = [];
  reads.forEach((read, i) => {
    const record = matchingRecord(read, fromImages, i);
    const published = read.read.instruction === 'ONBUILD' && !(read.read.line < (options.finalStageLine ?? 0));
    const target = published ? {} : pinTarget(read, record, upstream);
    filled.push(target.digest && record.internal ? { ...record, digest: target.digest } : record);
    used.push(target.ref);
    if (target.ref === undefined || target.ref === read.read.ref) return;
    pins.push({ line: read.read.line, instruction: read.read.instruction, ref: read.read.ref, pinned: target.ref });
  });
  return { pins, fromImages: filled, used };
}

function matchingRecord(read: ClassifiedRead, fromImages: readonly FromImageRecord[], i: number): FromImageRecord {
  const same = (r: FromImageRecord | undefined): r is FromImageRecord =>
    !!r && r.ref === read.ref && r.instruction === read.read.instruction && r.stage === read.read.stage;
  const record = fromImages[i];
  if (same(record)) return record;
  const found = fromImages.find(same);
  if (!found) throw new Error(`build: the plan has no record of ${read.ref} (${read.read.instruction}, line ${read.read.line})`);
  return found;
}

function pinTarget(
  read: ClassifiedRead,
  record: FromImageRecord,
  upstream: (id: string) => UpstreamImage | undefined,
): { ref?: string; digest?: string } {
  // Where the image is read: the internal image at this run's location, or the base override's target.
  const at = read.source ?? read.ref;
  if (read.internal === undefined) {
    if (!record.digest) throw new Error(`build: ${read.ref} (line ${read.read.line}) has no resolved digest`);
    return { ref: withDigest(at, record.digest), digest: record.digest };
  }
  const image = upstream(read.internal);
  const digest = image?.digest || record.digest;
  if (digest) return { ref: withDigest(at, digest), digest };
  // Built in this run and not pushed: the local engine has it under the upstream's own tags only.
  const local = image?.localRefs ?? [];
  if (local.length === 0 || local.includes(at)) return { ref: normalizeReference(read.read.ref) === at ? read.read.ref : at };
  return { ref: local[0] };
}

/** `registry/repo:tag@sha256:…`: the tag stays for people reading logs; the digest decides. */
export function withDigest(ref: string, digest: string): string {
  const parsed = parseReference(ref);
  if (!parsed) throw new Error(`build: not an image reference: ${ref}`);
  return formatReference({ ...parsed, digest });
}

/**
 * The final stage's base image as ImageBuilder records it (`registry/repo@sha256:…`), when it is an
 * image at a known digest; undefined for `scratch` and for images only the local engine has.
 */
/** The final stage's base image, as the build used it. */
export interface BaseImage {
  /** `registry/repo@sha256:…`, image-info's `baseImageDigest`. */
  record: string;
  /** `registry/repo:tag` as the Dockerfile names it (OCI's base.name label). */
  name: string;
  digest: string;
}

export function baseImage(analysis: DockerfileAnalysis, reads: readonly ClassifiedRead[], used: ReadonlyArray<string | undefined>): BaseImage | undefined {
  const stage = finalBaseStage(analysis);
  if (!stage || stage.base.kind !== 'image') return undefined;
  const stageIndex = stage.index;
  const at = reads.findIndex((r) => r.read.instruction === 'FROM' && r.read.stageIndex === stageIndex);
  const parsed = parseReference(used[at] ?? '');
  if (!parsed?.digest) return undefined;
  const repository = `${parsed.registry}/${parsed.repository}`;
  return { record: pinnedReference(repository, parsed.digest), name: parsed.tag ? `${repository}:${parsed.tag}` : repository, digest: parsed.digest };
}
