/**
 * The build platform (BuildKit's BUILDPLATFORM): the platform of the engine that runs the builds,
 * read from the engine, asked at most once per run and only when a Dockerfile depends on it.
 */
import { arch, platform as hostOs } from 'node:os';
import { readEnginePlatform, type Probe } from '../execute/engine.js';
import { canonicalPlatform, formatPlatform } from '../platform.js';
import type { TargetPlatform } from '../platform.js';

/** A known platform, or a function that finds it out. */
export type BuildPlatformSource = TargetPlatform | (() => Promise<TargetPlatform>);

/** Memoized: the source is consulted once, however many Dockerfiles ask. */
export function enginePlatformProvider(source: BuildPlatformSource | undefined, warn?: (message: string) => void, probe?: Probe): () => Promise<TargetPlatform> {
  let found: Promise<TargetPlatform> | undefined;
  return () => {
    if (found) return found;
    if (source === undefined) found = fromEngine(warn, probe);
    else if (typeof source === 'function') found = source();
    else found = Promise.resolve(canonicalPlatform(source));
    return found;
  };
}

async function fromEngine(warn?: (message: string) => void, probe?: Probe): Promise<TargetPlatform> {
  const engine = await readEnginePlatform(probe ? { probe } : {});
  if (engine) return engine;
  const local = hostPlatform();
  warn?.(`no Docker engine answered to say its platform; taking this machine's, ${formatPlatform(local)}, as BUILDPLATFORM`);
  return local;
}

/** This machine's platform in Go's names (Node says x64 and win32). */
export function hostPlatform(): TargetPlatform {
  const goArch: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64' };
  const os = hostOs() === 'win32' ? 'windows' : hostOs();
  return canonicalPlatform({ os, architecture: goArch[arch()] ?? arch() });
}
