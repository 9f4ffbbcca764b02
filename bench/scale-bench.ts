/**
 * Scale benchmark (issue 12). Generates repositories of 1,000 to 10,000 platforms (chains 5 deep, or
 * diamond-heavy groups; in one repo or spread over many) and runs the compiled CLI against the real
 * loopback registry, as a user would:
 *
 * - cold `plan` (no image-info: every platform is new);
 * - warm `plan` (every platform recorded as built, with an image of its own in the registry);
 * - no-change `build --push` (from that image-info: nothing to build);
 * - one-change `build --push` (the payload of one chain's root changes: that chain, 5 platforms,
 *   builds on the real engine and is pushed);
 *
 * each with its wall time, CPU time (user + system: what the run cost, whatever the shared machine's
 * load), peak RSS of the imagewright process and the registry requests it made (its own count, `--verbose`). Beside them, the floor measured in the same run: as many HEAD
 * requests as there are platforms, 16 at a time over kept-alive connections, against the same
 * registry. Ends with the growth from the smallest to the largest size. Asserts nothing about time.
 *
 *   npm run bench:scale [-- --sizes 1000,2000,5000,10000 --shapes chains:1,chains:10,diamonds:1 --skip-one-change]
 *
 * Needs scripts/setup-engine.sh (engine and registry on 127.0.0.1:5000). BENCH_KEEP=1 keeps the repositories.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readImageInfo } from '../src/imageinfo/index.js';
import { createRegistryClient } from '../src/registry/index.js';
import { engineProcessEnv, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../test/helpers/engine.js';
import { recordScaleRepoBuilt, writeScaleRepo, type ScaleShape } from '../test/helpers/scale-repo.js';
import { argValue, runTimedNode } from './process.js';

const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const sizes = (argValue('--sizes') ?? '1000,2000,5000,10000').split(',').map(Number);
const shapes = (argValue('--shapes') ?? 'chains:1,chains:10,diamonds:1').split(',').map((s) => {
  const [shape, repos] = s.split(':');
  if (shape !== 'chains' && shape !== 'diamonds') throw new Error(`unknown shape ${s}`);
  return { shape: shape as ScaleShape, repos: Number(repos ?? 1) };
});
const oneChange = !process.argv.includes('--skip-one-change');
const FLOOR_CONCURRENCY = 16;

interface Run {
  ms: number;
  /** User + system CPU time of the imagewright process: what the run cost, whatever the machine's load. */
  cpuMs: number;
  rssMb: number;
  requests: number;
  stdout: string;
}

/** Runs the CLI with `--verbose`; peak RSS and CPU time come from the process itself at exit (an --import hook). */
async function runCli(args: string[], env: NodeJS.ProcessEnv, dir: string): Promise<Run> {
  const rssFile = join(dir, 'rss.txt');
  const hook = join(dir, 'rss-hook.mjs');
  writeFileSync(hook, `import { writeFileSync } from 'node:fs';\nprocess.on('exit', () => { const u = process.resourceUsage(); writeFileSync(${JSON.stringify(rssFile)}, [u.maxRSS, u.userCPUTime + u.systemCPUTime].join(' ')); });\n`);
  const { ms, code, stdout, stderr } = await runTimedNode(['--import', hook, cli, ...args, '--verbose'], { cwd: dir, env });
  if (code !== 0) throw new Error(`imagewright ${args.join(' ')} failed (${code}):\n${stderr.split('\n').slice(-20).join('\n')}`);
  const requests = Number(/registry requests: (\d+)/.exec(stderr)?.[1] ?? NaN);
  const [maxRssKb = NaN, cpuMicros = NaN] = readFileSync(rssFile, 'utf8').split(' ').map(Number);
  return { ms, cpuMs: cpuMicros / 1000, rssMb: maxRssKb / 1024, requests, stdout };
}

/** `refs.length` HEAD requests, FLOOR_CONCURRENCY at a time, on kept-alive connections (Node's fetch). */
async function headFloor(refs: readonly string[]): Promise<number> {
  const queue = [...refs];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: FLOOR_CONCURRENCY }, async () => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) {
        const at = ref.indexOf('/');
        const [repo, digest] = ref.slice(at + 1).split('@');
        const response = await fetch(`http://${ref.slice(0, at)}/v2/${repo}/manifests/${digest}`, {
          method: 'HEAD',
          headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        if (response.status !== 200) throw new Error(`floor: HEAD ${ref}: ${response.status}`);
      }
    }),
  );
  return performance.now() - started;
}

interface Row {
  label: string;
  platforms: number;
  cold: Run;
  warm: Run;
  noChange: Run;
  oneChange?: Run;
  floorMs: number;
  load: string;
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function measure(platforms: number, shape: ScaleShape, repos: number): Promise<Row> {
  const { registry } = loadEngineEnv();
  const dir = mkdtempSync(join(tmpdir(), 'iw-scale-bench-'));
  const label = `${shape}, ${repos === 1 ? 'one repo' : `${repos} repos`}`;
  const startLoad = load();
  try {
    const repo = writeScaleRepo(dir, { platforms, shape, repos, registry, prefix: uniqueRepoPrefix('scale'), base: `${registry}/base/busybox:stable` });
    const env = engineProcessEnv();
    const imageInfo = join(dir, 'image-info.json');
    const manifestArgs = ['--manifest', repo.manifest, '--image-info', imageInfo];

    const cold = await runCli(['plan', ...manifestArgs, '--format', 'json'], env, dir);

    const built = join(dir, 'built.json');
    await recordScaleRepoBuilt(repo, built, createRegistryClient());
    copyFileSync(built, imageInfo);
    const warm = await runCli(['plan', ...manifestArgs, '--format', 'json'], env, dir);
    const decisions = (JSON.parse(warm.stdout) as { platforms: Array<{ decision: string }> }).platforms;
    if (decisions.some((p) => p.decision !== 'reuse')) throw new Error(`${label}, ${platforms}: the warm plan builds something`);

    const noChange = await runCli(['build', '--push', ...manifestArgs, '--log-dir', join(dir, 'logs')], env, dir);

    const info = await readImageInfo(built);
    const recorded = (info?.repos ?? []).flatMap((r) => r.images.flatMap((i) => i.platforms.map((p) => p.digest)));
    const floorMs = await headFloor(recorded);

    let changed: Run | undefined;
    if (oneChange) {
      const root = repo.firstGroup[0] as string;
      writeFileSync(join(dir, root, 'payload.txt'), `changed at ${Date.now()}\n`);
      changed = await runCli(['build', '--push', ...manifestArgs, '--log-dir', join(dir, 'logs')], env, dir);
    }
    return { label, platforms, cold, warm, noChange, ...(changed && { oneChange: changed }), floorMs, load: `${startLoad} → ${load()}` };
  } finally {
    if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(rows: Row[]): void {
  const header = ['platforms', 'shape', 'cold plan', 'warm plan', 'no-change build --push', 'one-change build --push', 'CPU time (cold / warm / no-change / one-change)', 'floor (HEADs, 16 at a time)', 'peak RSS (plan / build)', 'registry requests (warm / no-change / one-change)', 'load average'];
  const lines = rows.map((r) => [
    r.platforms.toLocaleString('en-US'),
    r.label,
    s(r.cold.ms),
    `${s(r.warm.ms)} (${(r.warm.ms / r.floorMs).toFixed(2)}× floor)`,
    `${s(r.noChange.ms)} (${(r.noChange.ms / r.floorMs).toFixed(2)}× floor)`,
    r.oneChange ? s(r.oneChange.ms) : '-',
    [r.cold, r.warm, r.noChange, r.oneChange].map((run) => (run ? (run.cpuMs / 1000).toFixed(1) : '-')).join(' / ') + ' s',
    s(r.floorMs),
    `${Math.round(Math.max(r.cold.rssMb, r.warm.rssMb))} / ${Math.round(Math.max(r.noChange.rssMb, r.oneChange?.rssMb ?? 0))} MB`,
    `${r.warm.requests} / ${r.noChange.requests} / ${r.oneChange?.requests ?? '-'}`,
    r.load,
  ]);
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${header.map(() => '---').join('|')}|`);
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

function printGrowth(rows: Row[]): void {
  console.log('\ngrowth from the smallest to the largest size (platforms ×N):');
  for (const label of new Set(rows.map((r) => r.label))) {
    const mine = rows.filter((r) => r.label === label).sort((a, b) => a.platforms - b.platforms);
    const [first, last] = [mine[0], mine[mine.length - 1]];
    if (!first || !last || first === last) continue;
    const ratio = (a: number, b: number): string => `${(b / a).toFixed(1)}×`;
    const parts = [
      `cold plan ${ratio(first.cold.ms, last.cold.ms)}`,
      `warm plan ${ratio(first.warm.ms, last.warm.ms)}`,
      `no-change ${ratio(first.noChange.ms, last.noChange.ms)}`,
      first.oneChange && last.oneChange ? `one-change ${ratio(first.oneChange.ms, last.oneChange.ms)}` : '',
      `CPU time cold ${ratio(first.cold.cpuMs, last.cold.cpuMs)}, warm ${ratio(first.warm.cpuMs, last.warm.cpuMs)}, no-change ${ratio(first.noChange.cpuMs, last.noChange.cpuMs)}`,
      `peak RSS ${ratio(Math.max(first.warm.rssMb, first.noChange.rssMb), Math.max(last.warm.rssMb, last.noChange.rssMb))}`,
      `warm plan / floor ${(first.warm.ms / first.floorMs).toFixed(2)} → ${(last.warm.ms / last.floorMs).toFixed(2)}`,
      `requests ${ratio(first.noChange.requests, last.noChange.requests)}`,
      `floor ${ratio(first.floorMs, last.floorMs)}`,
    ].filter(Boolean);
    console.log(`- ${label}, ${first.platforms} → ${last.platforms} (×${last.platforms / first.platforms}): ${parts.join(', ')}`);
  }
}

async function main(): Promise<void> {
  loadEngineEnv();
  await ensureBaseImages();
  console.log(`scale benchmark: sizes ${sizes.join(', ')}; load average at start ${load()}\n`);
  const rows: Row[] = [];
  for (const { shape, repos } of shapes) {
    for (const platforms of sizes) {
      const row = await measure(platforms, shape, repos);
      console.error(`done: ${platforms} ${row.label} (load ${row.load})`);
      rows.push(row);
    }
  }
  printTable(rows);
  printGrowth(rows);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
