/**
 * imagewright's build-time platform variables against the real engine's BuildKit. For each target
 * (amd64, arm64 with and without the manifest's v8, arm/v7, riscv64) imagewright derives TARGET* and
 * BUILD* the way its analysis and keys use them; the engine then builds the same Dockerfile through
 * imagewright's own engine wrapper, with the `--platform` imagewright passes, and a RUN step writes
 * what BuildKit set. The RUN runs in a `FROM --platform=$BUILDPLATFORM` stage, so no emulation is
 * needed, and the stage's base is what imagewright's analysis says that FROM reads.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { analyzeDockerfile } from '../../src/dockerfile/index.js';
import { createDockerEngine, readEnginePlatform, type DockerCliEngine } from '../../src/execute/engine.js';
import { buildTimeVariables, formatPlatformForBuild, manifestTargetPlatform, type TargetPlatform } from '../../src/platform.js';
import { docker, engineProcessEnv, ensureBaseImages, fileInImage, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';

const VARIABLES = ['TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT'];

function dockerfile(base: string): string {
  const printed = VARIABLES.map((name) => `${name}=%s\\n`).join('');
  const args = VARIABLES.map((name) => `"$${name}"`).join(' ');
  return [
    `FROM --platform=$BUILDPLATFORM ${base} AS probe`,
    `ARG ${VARIABLES.join(' ')}`,
    `RUN printf '${printed}' ${args} > /vars`,
    'FROM scratch',
    'COPY --from=probe /vars /vars',
    '',
  ].join('\n');
}

/** `/vars` of a local image, read without running it (the image is of the target's architecture). */
async function varsOf(image: string): Promise<Record<string, string>> {
  const text = await fileInImage(image, '/vars');
  return Object.fromEntries(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

describe('build-time platform variables match the real engine', { timeout: 5 * 60_000 }, () => {
  let root: string;
  let base: string;
  let engine: DockerCliEngine;
  let buildPlatform: TargetPlatform;
  const images: string[] = [];

  before(async () => {
    const env = loadEngineEnv();
    const prefix = uniqueRepoPrefix('platform-vars');
    await ensureBaseImages(prefix);
    base = `${env.registry}/${prefix}/base/busybox:stable`;
    root = await mkdtemp(join(tmpdir(), 'iw-platform-vars-'));
    await writeFile(join(root, 'Dockerfile'), dockerfile(base));
    const processEnv = engineProcessEnv({ IMAGEWRIGHT_DOCKER: env.docker });
    engine = await createDockerEngine({ env: processEnv });
    const read = await readEnginePlatform({ env: processEnv });
    assert.ok(read, 'the engine says its platform');
    buildPlatform = read;
  });

  after(async () => {
    for (const image of images) await docker(['rmi', image], { allowFailure: true });
    if (root) await rm(root, { recursive: true, force: true });
  });

  // As manifests write them: arm64 with and without the v8 that BuildKit drops.
  const targets: Array<{ architecture: string; variant?: string }> = [
    { architecture: 'amd64' },
    { architecture: 'arm64' },
    { architecture: 'arm64', variant: 'v8' },
    { architecture: 'arm', variant: 'v7' },
    { architecture: 'riscv64' },
  ];
  for (const manifestPlatform of targets) {
    const name = [manifestPlatform.architecture, manifestPlatform.variant].filter(Boolean).join('/');
    it(`linux/${name}`, async () => {
      const target = manifestTargetPlatform({ os: 'linux', osVersion: 'busybox', ...manifestPlatform });
      const expected = buildTimeVariables(target, buildPlatform);

      // What imagewright's analysis reads for the $BUILDPLATFORM stage: the base for the engine's platform.
      const analysis = analyzeDockerfile(dockerfile(base), { file: 'Dockerfile', buildArgs: {}, platform: target, buildPlatform });
      assert.equal(analysis.reads[0]?.platform, expected.BUILDPLATFORM);
      assert.equal(analysis.buildPlatformDependent, true);

      const tag = `iwtest-platform-vars:${name.replace('/', '-')}-${process.pid}`;
      images.push(tag);
      const log: string[] = [];
      await engine.build({
        contextDir: root,
        dockerfile: join(root, 'Dockerfile'),
        tags: [tag],
        platform: formatPlatformForBuild(target),
        buildArgs: {},
        labels: {},
        cacheFrom: [],
        inlineCache: false,
        noCache: false,
        log: { write: (chunk) => log.push(String(chunk)) },
      });
      assert.deepEqual(await varsOf(tag), expected, `BuildKit's values for linux/${name} (build log:\n${log.join('').slice(-2000)})`);
    });
  }
});
