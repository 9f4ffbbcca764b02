/**
 * What `build` checks about platforms after planning and before the first build starts, so that a
 * run either builds what it should or stops at once:
 * - a platform of another OS than the engine's (Windows on a Linux engine) is never sent to it;
 * - the final stage's base image must be of the platform being built (ImageBuilder's platform
 *   check; `--skip-platform-check` turns it off for bases whose config is mislabelled);
 * - RUN steps of a foreign architecture need an emulator the engine can use.
 */
import { finalBaseStage, runSteps } from '../dockerfile/index.js';
import type { DockerfileAnalysis } from '../dockerfile/types.js';
import { EngineCapabilityError, InputError } from '../errors.js';
import { ENABLE_EMULATION, type EmulationProbe } from '../execute/emulation.js';
import type { SkipReason } from '../execute/index.js';
import type { ManifestPlatform } from '../manifest/types.js';
import { displayPath } from '../paths.js';
import { resolutionKey } from '../plan/index.js';
import type { Plan, PlatformPlan } from '../plan/types.js';
import { canonicalPlatform, formatPlatform, formatPlatformForBuild, manifestTargetPlatform, parsePlatform, runsNatively, sameOs, samePlatform, type TargetPlatform } from '../platform.js';
import { parseReference, pinnedReference, repositoryOf } from '../reference.js';
import type { PlanResult } from './plan.js';
import { readImageConfig, type LabelReader } from './registry-state.js';

/** The platform a manifest platform builds, without its Windows release (what `docker build --platform` takes). */
function buildTarget(platform: ManifestPlatform): TargetPlatform {
  return parsePlatform(formatPlatformForBuild(manifestTargetPlatform(platform))) ?? manifestTargetPlatform(platform);
}

function toBuild(plan: Plan): PlatformPlan[] {
  return plan.platforms.filter((p) => p.decision === 'build');
}

/** A platform the engine is to build, with its Dockerfile's analysis. */
export interface PlatformToBuild {
  id: string;
  platform: ManifestPlatform;
  analysis: DockerfileAnalysis;
}

/** The platforms of `plan` that the engine will build: decided `build`, not skipped. */
export function platformsToBuild(planned: PlanResult, plan: Plan, skip: ReadonlyMap<string, SkipReason>): PlatformToBuild[] {
  return toBuild(plan).flatMap((p) => {
    const analysis = planned.sources.get(p.id)?.analysis;
    return analysis && !skip.has(p.id) ? [{ id: p.id, platform: p.platform, analysis }] : [];
  });
}

/**
 * Platforms that must build but that an engine on `engine` cannot build at all: another OS. They
 * are skipped with the reason (their dependents too); reused platforms need no engine and stay.
 */
export function unbuildableOnEngine(plan: Plan, engine: TargetPlatform): Map<string, SkipReason> {
  const skip = new Map<string, SkipReason>();
  for (const p of toBuild(plan)) {
    const target = buildTarget(p.platform);
    if (sameOs(engine, target)) continue;
    const detail = `${formatPlatform(target)} cannot be built on this ${formatPlatform(engine)} engine; build it on a ${target.os} engine (--os-type ${engine.os} leaves it out)`;
    skip.set(p.id, { kind: 'unsupported', detail });
  }
  return skip;
}

/**
 * Refuses, before any build, a platform whose final base image is an image of another platform:
 * built on it, an "arm64" image would hold amd64 programs. A base named through an index was
 * picked by platform when planning; a single image's config says what it is.
 */
export async function checkBasePlatforms(planned: PlanResult, plan: Plan, registry: LabelReader, skip: ReadonlyMap<string, SkipReason>): Promise<void> {
  const configs = new Map<string, Promise<TargetPlatform | undefined>>();
  const platformOfImage = (ref: string, digest: string): Promise<TargetPlatform | undefined> => {
    let found = configs.get(digest);
    if (!found) {
      found = imagePlatform(registry, ref, digest);
      configs.set(digest, found);
    }
    return found;
  };
  await Promise.all(
    toBuild(plan)
      .filter((p) => !skip.has(p.id))
      .map(async (p) => {
        const analysis = planned.sources.get(p.id)?.analysis;
        const stage = analysis && finalBaseStage(analysis);
        if (!stage || stage.base.kind !== 'image') return;
        const stageIndex = stage.index;
        const read = planned.graph.reads.get(p.id)?.find((r) => r.read.instruction === 'FROM' && r.read.stageIndex === stageIndex);
        // An internal base is built by the manifest for this very platform.
        if (!read || read.internal !== undefined) return;
        const resolved = planned.input.resolved.get(resolutionKey(read.ref, read.platform));
        if (!resolved) return;
        const offered = resolved.indexDigest ? parsePlatform(read.platform) : await platformOfImage(read.ref, resolved.digest);
        const target = buildTarget(p.platform);
        if (!offered || samePlatform(stripVersion(offered), target)) return;
        const what = resolved.indexDigest ? `is read for ${formatPlatform(offered)}` : `is a single ${formatPlatform(offered)} image, not an index`;
        throw new InputError(
          displayPath(p.platform.dockerfilePath),
          `line ${read.read.line}`,
          `base image ${read.read.ref} ${what}, so ${p.id} cannot be built for ${formatPlatform(target)} on it ` +
            '(--skip-platform-check builds anyway, for a base whose config names the wrong platform)',
        );
      }),
  );
}

function stripVersion(platform: TargetPlatform): TargetPlatform {
  const { ociOsVersion: _version, ...rest } = platform;
  return rest;
}

/** The platform an image's config declares; undefined when it declares none. */
async function imagePlatform(registry: LabelReader, ref: string, digest: string): Promise<TargetPlatform | undefined> {
  const parsed = parseReference(ref);
  if (!parsed) return undefined;
  const repo = repositoryOf(parsed);
  const manifest = await registry.getManifest(pinnedReference(repo, digest));
  const config = await readImageConfig(registry, repo, manifest.body);
  if (!config?.os || !config.architecture) return undefined;
  return config.variant ? { os: config.os, architecture: config.architecture, variant: config.variant } : { os: config.os, architecture: config.architecture };
}

/**
 * Refuses, before any build, RUN steps of an architecture the engine's CPU does not execute when no
 * emulator is registered for it; says how to register one. An engine this machine cannot look into
 * is trusted (its build will say).
 */
export async function checkEmulation(builds: readonly PlatformToBuild[], engine: TargetPlatform, probe: EmulationProbe): Promise<void> {
  const needs = new Map<string, string[]>();
  for (const { id, platform, analysis } of builds) {
    const target = buildTarget(platform);
    for (const step of runSteps(analysis)) {
      const written = step.platform === undefined ? target : parsePlatform(step.platform);
      const runsOn = written && canonicalPlatform(written);
      if (!runsOn || runsNatively(engine, runsOn)) continue;
      const where = `${displayPath(platform.dockerfilePath)} line ${step.line} (${id})`;
      needs.set(runsOn.architecture, [...(needs.get(runsOn.architecture) ?? []), where]);
    }
  }
  const missing: string[] = [];
  for (const [architecture, where] of needs) {
    const answer = await probe(architecture);
    if (answer.state !== 'missing') continue;
    const more = where.length > 1 ? ` and ${where.length - 1} more` : '';
    missing.push(`RUN at ${where[0]}${more} executes ${architecture} programs, but ${answer.detail}`);
  }
  if (missing.length === 0) return;
  throw new EngineCapabilityError(
    `this ${formatPlatform(engine)} engine cannot run foreign programs: ${missing.join('; ')}. Enable emulation (${ENABLE_EMULATION}), or build these platforms on a machine of their architecture`,
  );
}
