/**
 * A real multi-arch base image made offline: a static busybox per architecture (the host's for
 * amd64, Debian's busybox-static for arm64 and armhf, fetched by scripts/setup-engine.sh), one image
 * per architecture built FROM scratch (COPY only, so no emulation is needed to make them), pushed,
 * and joined under one index by imagewright's own index publishing.
 */
import { mkdtemp, copyFile, rm, writeFile, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binfmtProbe } from '../../src/execute/emulation.js';
import { publishSharedTagIndex, type IndexPlatform } from '../../src/execute/publish.js';
import { createRegistryClient } from '../../src/registry/index.js';
import { docker, engineProcessEnv, loadEngineEnv } from './engine.js';

const STATE_DIR = process.env.IMAGEWRIGHT_STATE_DIR ?? '/var/lib/imagewright';

interface Arch {
  platform: { os: string; architecture: string; variant?: string };
  busybox: string;
  tag: string;
}

const ARCHES: Arch[] = [
  { platform: { os: 'linux', architecture: 'amd64' }, busybox: '/bin/busybox', tag: 'amd64' },
  { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, busybox: join(STATE_DIR, 'busybox', 'arm64', 'busybox'), tag: 'arm64v8' },
  { platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, busybox: join(STATE_DIR, 'busybox', 'armhf', 'busybox'), tag: 'arm32v7' },
];

/** Why RUN steps of arm64 and arm/v7 cannot be tested here, or undefined when they can. */
export async function emulationSkipReason(): Promise<string | undefined> {
  const probe = binfmtProbe({ env: engineProcessEnv() });
  for (const architecture of ['arm64', 'arm']) {
    const answer = await probe(architecture);
    if (answer.state === 'missing') return `no ${architecture} emulation: ${answer.detail} (scripts/setup-engine.sh installs qemu-user-static binfmt-support where it can)`;
    if (answer.state === 'unknown') return `cannot tell whether the engine emulates ${architecture} (no binfmt_misc here, or a remote engine)`;
  }
  for (const arch of ARCHES) {
    const found = await access(arch.busybox).then(() => true, () => false);
    if (!found) return `no static busybox for ${arch.tag} at ${arch.busybox} (scripts/setup-engine.sh fetches it with apt-get download)`;
  }
  return undefined;
}

/**
 * Pushes `<registry>/<prefix>/base/multi:<arch>` for amd64, arm64/v8 and arm/v7 and the index
 * `<registry>/<prefix>/base/multi:1` over them; returns the index's reference. Each image has
 * /bin/busybox and /bin/sh (busybox again, which runs its shell when called sh).
 */
export async function pushMultiArchBase(prefix: string): Promise<string> {
  const registry = loadEngineEnv().registry;
  const repo = `${registry}/${prefix}/base/multi`;
  const client = createRegistryClient();
  const platforms: IndexPlatform[] = [];
  for (const arch of ARCHES) {
    const dir = await mkdtemp(join(tmpdir(), `iw-multi-${arch.tag}-`));
    try {
      await copyFile(arch.busybox, join(dir, 'busybox'));
      await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY busybox /bin/sh\n');
      const platform = [arch.platform.os, arch.platform.architecture, arch.platform.variant].filter(Boolean).join('/');
      const ref = `${repo}:${arch.tag}`;
      await docker(['build', '-q', '--platform', platform, '-t', ref, dir]);
      await docker(['push', ref]);
      const head = await client.headManifest(ref);
      if (!head) throw new Error(`pushed ${ref}, but the registry does not have it`);
      platforms.push({ image: `${repo}@${head.digest}`, ...arch.platform });
      await docker(['rmi', ref], { allowFailure: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await publishSharedTagIndex(client, { platforms, sharedTags: ['1'], tags: [`${repo}:1`], previous: undefined, now: () => new Date() });
  return `${repo}:1`;
}
