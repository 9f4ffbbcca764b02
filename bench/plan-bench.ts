/**
 * Plan benchmark (issue: planner). Generates a manifest of 1,000 platforms — multi-stage Dockerfiles,
 * internal chains 5 deep, 20 distinct external images — starts a real registry on loopback behind a
 * counting proxy, and runs the compiled `imagewright plan` as a user would. Prints figures; asserts
 * nothing about time (machines here are noisy): the baseline rows in the same run give the scale.
 *
 *   npm run build && node --import tsx bench/plan-bench.ts [--platforms 1000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ImageInfoDocument, platformRecordIdentity, writeImageInfoText } from '../src/imageinfo/index.js';
import { createRegistryClient } from '../src/registry/index.js';
import { planRepository } from '../src/shell/plan.js';
import { startFaultProxy } from '../test/helpers/proxy.js';
import { pushImage } from '../test/helpers/registry-content.js';
import { startRegistry } from '../test/helpers/registry.js';
import { argValue, runTimedNode } from './process.js';

const PLATFORMS = Number(argValue('--platforms') ?? 1000);
const CHAIN_DEPTH = 5;
const EXTERNAL_IMAGES = 20;
const REPOS = 10;
const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

/** Writes the repository; returns the manifest path. Platform i is level (i % depth) of chain floor(i / depth). */
function generate(dir: string, registryHost: string): string {
  const repos = new Map<string, object[]>();
  for (let i = 0; i < PLATFORMS; i++) {
    const chain = Math.floor(i / CHAIN_DEPTH);
    const level = i % CHAIN_DEPTH;
    const repo = `bench/r${chain % REPOS}`;
    const tag = `c${chain}-l${level}`;
    const ext = (n: number) => `${registryHost}/ext/img-${n % EXTERNAL_IMAGES}:1`;
    const parent = level === 0 ? ext(chain) : `\${REPO}:c${chain}-l${level - 1}`;
    const folder = join(dir, 'src', `c${chain}`, `l${level}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(
      join(folder, 'Dockerfile'),
      [
        'ARG REPO',
        `FROM ${ext(chain + 3)} AS tools`,
        `RUN --mount=type=bind,from=${ext(chain + 7)},target=/m \\`,
        '    # a comment inside a continued line, as the real prereqs Dockerfiles have',
        '    cp -r /m /opt/m',
        '',
        `FROM ${parent}`,
        'COPY --from=tools /opt/m /opt/m',
        'COPY payload.txt /payload.txt',
        '',
      ].join('\n'),
    );
    writeFileSync(join(folder, 'payload.txt'), `payload of ${tag}\n`);
    writeFileSync(join(folder, '.dockerignore'), '*.md\n');
    const images = repos.get(repo) ?? [];
    images.push({
      platforms: [
        {
          dockerfile: `src/c${chain}/l${level}`,
          os: 'linux',
          osVersion: 'busybox',
          tags: { [tag]: {} },
          buildArgs: { REPO: `$(Repo:${repo.replace('/', '-')})` },
        },
      ],
    });
    repos.set(repo, images);
  }
  const manifest = {
    registry: registryHost,
    repos: [...repos].map(([name, images]) => ({ id: name.replace('/', '-'), name, images })),
  };
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
}

/** Runs the CLI in a child process; asynchronously, because the counting proxy lives in this process. */
async function runPlan(manifest: string, imageInfo: string): Promise<{ ms: number; stdout: string }> {
  const { ms, code, stdout, stderr } = await runTimedNode([cli, 'plan', '--manifest', manifest, '--image-info', imageInfo, '--format', 'json']);
  if (code !== 0) throw new Error(`plan failed (${code}): ${stderr}`);
  return { ms, stdout };
}

function nodeStartupMs(): number {
  const started = performance.now();
  spawnSync(process.execPath, ['-e', '0']);
  return performance.now() - started;
}

async function main(): Promise<void> {
  const registry = await startRegistry();
  const proxy = await startFaultProxy(registry.host);
  const dir = mkdtempSync(join(tmpdir(), 'iw-plan-bench-'));
  try {
    for (let n = 0; n < EXTERNAL_IMAGES; n++) await pushImage(registry, `ext/img-${n}`, '1', { layerText: `external ${n}` });
    const manifest = generate(dir, process.env.BENCH_DIRECT ? registry.host : proxy.host);
    const imageInfo = join(dir, 'image-info.json');

    // Cold: no image-info, so every platform is new and only external references are resolved.
    let before = proxy.requestCount;
    const cold = await runPlan(manifest, imageInfo);
    const coldRequests = proxy.requestCount - before;
    const coldPlan = JSON.parse(cold.stdout) as { platforms: Array<{ decision: string }> };

    // Warm: record every platform as built and pushed (a small distinct image each), so the plan must
    // check that each recorded image still exists, then reuse it.
    const client = createRegistryClient();
    const { plan } = await planRepository({ manifestFile: manifest, imageInfoFile: undefined, registry: client });
    const digests = new Map<string, string>();
    const queue = [...plan.platforms];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let p = queue.shift(); p; p = queue.shift()) {
          const pushed = await pushImage(registry, p.platform.repo, p.tags[0], { layerText: p.id });
          digests.set(p.id, pushed.digest);
        }
      }),
    );
    const document = new ImageInfoDocument({ schemaVersion: '2.0', repos: [] });
    for (const p of plan.platforms) {
      document.upsertPlatform(p.platform.repo, { sharedTags: p.platform.sharedTags }, {
        ...platformRecordIdentity(p.platform),
        digest: `${process.env.BENCH_DIRECT ? registry.host : proxy.host}/${p.platform.repo}@${digests.get(p.id) ?? ''}`,
        buildKey: p.buildKey,
        fromImages: p.fromImages,
        inputs: p.inputs,
      });
    }
    await writeImageInfoText(imageInfo, document.serialize());
    before = proxy.requestCount;
    const warm = await runPlan(manifest, imageInfo);
    const warmRequests = proxy.requestCount - before;
    const warmPlan = JSON.parse(warm.stdout) as { platforms: Array<{ decision: string }> };

    const totalReads = plan.platforms.reduce((n, p) => n + p.fromImages.filter((f) => !f.internal).length, 0);
    const startup = nodeStartupMs();
    const rows: Array<[string, string, string, string]> = [
      ['run', 'wall time', 'registry requests', 'decisions'],
      ['node -e 0 (process start baseline)', `${startup.toFixed(0)} ms`, '-', '-'],
      ['plan, no image-info (cold)', `${cold.ms.toFixed(0)} ms`, String(coldRequests), tally(coldPlan.platforms)],
      ['plan, all recorded (warm)', `${warm.ms.toFixed(0)} ms`, String(warmRequests), tally(warmPlan.platforms)],
      ['baseline: one resolve per read', '-', String(totalReads), '-'],
    ];
    console.log(`plan benchmark: ${PLATFORMS} platforms, chains ${CHAIN_DEPTH} deep, ${EXTERNAL_IMAGES} distinct external images`);
    console.log(table(rows));
    console.log(`distinct external references: ${EXTERNAL_IMAGES}; the warm run adds one existence check (HEAD) per recorded image: ${PLATFORMS}`);
    console.log(`target: cold plan under 2000 ms on 2 cores -> ${cold.ms < 2000 ? 'met' : 'NOT met'}`);
  } finally {
    await proxy.stop();
    await registry.stop();
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`); else rmSync(dir, { recursive: true, force: true });
  }
}

function tally(platforms: Array<{ decision: string }>): string {
  const build = platforms.filter((p) => p.decision === 'build').length;
  return `${build} build, ${platforms.length - build} reuse`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')).join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
