/**
 * Build benchmark (issue 3). Generates a repository of 50 platforms — 10 chains 5 deep, multi-stage
 * Dockerfiles whose intermediate stage starts FROM the internal upstream and whose final stage copies
 * from it, two chains rooted on a shared builder — on a busybox base pushed to the loopback registry,
 * then times whole commands on the shared engine:
 *
 *   (a) no change:       `imagewright build --push` versus `docker build` + `docker push` of every
 *                        platform with a warm BuildKit cache (the alternative the seed proposed);
 *   (b) builder changed: `imagewright build --push` versus `docker build` + `docker push` of exactly
 *                        the 15 platforms the change reaches (two changes per tool, in ABBA order).
 *
 * Builds run are counted by a wrapper around the docker client that logs every invocation. Prints a
 * table; asserts nothing about time (the machine is shared and noisy), exits non-zero only on errors.
 *
 *   node --import tsx bench/build-bench.ts      (needs scripts/setup-engine.sh to have run)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliPath } from '../test/helpers/cli.js';
import { docker, engineProcessEnv, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../test/helpers/engine.js';

const CHAINS = 10;
const DEPTH = 5;
/** Chains whose root copies from chain 0's root (the shared builder): a change there reaches 3 chains. */
const BUILDER_CONSUMERS = [1, 2];
const PLATFORM = 'linux/amd64';
const NO_CHANGE_RUNS = 3;
const CHANGE_ROUNDS = 2;

interface BenchPlatform {
  chain: number;
  level: number;
  /** Build context, relative to the repository root. */
  folder: string;
  /** Tags within the chain's repo. */
  tags: string[];
  /** The internal image this one reads, or undefined for a root on the base image only. */
  upstream: { chain: number; level: number } | undefined;
}

const repoName = (chain: number): string => `chain${chain}`;
const platformName = (p: { chain: number; level: number }): string => `${repoName(p.chain)}:l${p.level}`;

/** Every platform, in an order where each upstream comes before its readers. */
function benchPlatforms(): BenchPlatform[] {
  const platforms: BenchPlatform[] = [];
  for (let level = 0; level < DEPTH; level++) {
    for (let chain = 0; chain < CHAINS; chain++) {
      const upstream =
        level > 0 ? { chain, level: level - 1 } : BUILDER_CONSUMERS.includes(chain) ? { chain: 0, level: 0 } : undefined;
      platforms.push({ chain, level, folder: `src/${repoName(chain)}/l${level}`, tags: [`l${level}`, `l${level}-1.0`], upstream });
    }
  }
  return platforms;
}

/** The platforms that read `changed`, directly or through others, and `changed` itself. */
function affectedBy(platforms: readonly BenchPlatform[], changed: { chain: number; level: number }): BenchPlatform[] {
  const hit = new Set([platformName(changed)]);
  for (const p of platforms) if (p.upstream && hit.has(platformName(p.upstream))) hit.add(platformName(p));
  return platforms.filter((p) => hit.has(platformName(p)));
}

const ROOT_DOCKERFILE = `ARG BASE_REGISTRY
FROM \${BASE_REGISTRY}/base/busybox:stable AS build
COPY payload.txt /src/payload.txt
RUN mkdir -p /opt && cp /src/payload.txt /opt/payload.txt && echo built > /opt/built.txt

FROM \${BASE_REGISTRY}/base/busybox:stable
COPY --from=build /opt/ /opt/
`;

// Like the seed: an intermediate stage based on the internal upstream, copied from by the final stage.
const DERIVED_DOCKERFILE = `ARG UPSTREAM
ARG BASE_REGISTRY
FROM \${UPSTREAM} AS upstream
COPY payload.txt /work/payload.txt
RUN cat /opt/*.txt /work/payload.txt > /work/combined.txt

FROM \${BASE_REGISTRY}/base/busybox:stable
COPY --from=upstream /work/combined.txt /opt/upstream.txt
COPY payload.txt /opt/payload.txt
`;

/** Writes the repository and its ImageBuilder manifest; returns the manifest's path. */
function generate(dir: string, registry: string, platforms: readonly BenchPlatform[]): string {
  for (const p of platforms) {
    const folder = join(dir, p.folder);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'Dockerfile'), p.upstream ? DERIVED_DOCKERFILE : ROOT_DOCKERFILE);
    writeFileSync(join(folder, 'payload.txt'), `payload of ${platformName(p)}\n`);
  }
  const manifest = {
    registry,
    variables: { BaseRegistry: registry },
    repos: Array.from({ length: CHAINS }, (_, chain) => ({
      id: repoName(chain),
      name: `iw/${repoName(chain)}`,
      images: platforms
        .filter((p) => p.chain === chain)
        .map((p) => ({
          platforms: [
            {
              dockerfile: p.folder,
              os: 'linux',
              osVersion: 'busybox',
              tags: Object.fromEntries(p.tags.map((t) => [t, {}])),
              buildArgs: {
                BASE_REGISTRY: '$(BaseRegistry)',
                ...(p.upstream ? { UPSTREAM: `$(Repo:${repoName(p.upstream.chain)}):l${p.upstream.level}` } : {}),
              },
            },
          ],
        })),
    })),
  };
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return file;
}

/**
 * A docker client that appends its arguments (unit-separated) to `log`, then runs the real one;
 * both tools go through it, so its small cost is paid alike.
 */
function countingDocker(dir: string, realDocker: string): { path: string; buildsSince: () => () => number } {
  const log = join(dir, 'docker-calls.log');
  writeFileSync(log, '');
  const path = join(dir, 'docker');
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\037' "$@" >> '${log}'\necho >> '${log}'\nexec '${realDocker}' "$@"\n`);
  chmodSync(path, 0o755);
  const builds = (): number =>
    readFileSync(log, 'utf8')
      .split('\n')
      .map((line) => line.split('\x1f'))
      .filter((argv) => (argv[0] === 'build' || (argv[0] === 'buildx' && argv[1] === 'build')) && !argv.includes('--help')).length;
  return {
    path,
    buildsSince: () => {
      const start = builds();
      return () => builds() - start;
    },
  };
}

interface Measured {
  ms: number;
  builds: number;
}

interface Bench {
  dir: string;
  manifest: string;
  registry: string;
  prefix: string;
  wrapper: ReturnType<typeof countingDocker>;
  cli: string;
}

/** `imagewright build --push` as a user runs it, timed as a whole command. */
async function imagewright(bench: Bench, extra: readonly string[] = []): Promise<Measured> {
  const count = bench.wrapper.buildsSince();
  const args = [
    bench.cli, 'build', '--push',
    '--manifest', bench.manifest,
    '--repo-prefix', `${bench.prefix}/`,
    '--log-dir', join(bench.dir, 'logs'),
    ...extra,
  ];
  const env = engineProcessEnv({ IMAGEWRIGHT_DOCKER: bench.wrapper.path });
  const started = performance.now();
  const { code, stderr } = await runProcess(process.execPath, args, env, bench.dir);
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`imagewright build --push exited with ${code}:\n${stderr.trim().split('\n').slice(-20).join('\n')}`);
  return { ms, builds: count() };
}

/** The alternative: `docker build` then `docker push` of every tag, one platform after another. */
async function plainDocker(bench: Bench, platforms: readonly BenchPlatform[]): Promise<Measured> {
  const count = bench.wrapper.buildsSince();
  const repo = (chain: number): string => `${bench.registry}/${bench.prefix}/docker/${repoName(chain)}`;
  const env = engineProcessEnv();
  const started = performance.now();
  for (const p of platforms) {
    const refs = p.tags.map((t) => `${repo(p.chain)}:${t}`);
    const args = ['build', '--platform', PLATFORM, '-f', join(p.folder, 'Dockerfile'), '--build-arg', `BASE_REGISTRY=${bench.registry}/${bench.prefix}`];
    if (p.upstream) args.push('--build-arg', `UPSTREAM=${repo(p.upstream.chain)}:l${p.upstream.level}`);
    for (const ref of refs) args.push('-t', ref);
    await mustRun(bench.wrapper.path, [...args, p.folder], env, bench.dir);
    for (const ref of refs) await mustRun(bench.wrapper.path, ['push', ref], env, bench.dir);
  }
  return { ms: performance.now() - started, builds: count() };
}

async function mustRun(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  const { code, stderr } = await runProcess(command, args, env, cwd);
  if (code !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} exited with ${code}:\n${stderr.trim().split('\n').slice(-15).join('\n')}`);
}

function runProcess(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/** The BaseRegistry variable points at the prefixed base images; --repo-prefix does not reach variables. */
function withBaseVar(bench: Bench): string[] {
  return ['--var', `BaseRegistry=${bench.registry}/${bench.prefix}`];
}

async function repeat(times: number, measure: () => Promise<Measured>): Promise<Measured[]> {
  const runs: Measured[] = [];
  for (let i = 0; i < times; i++) runs.push(await measure());
  return runs;
}

function total(runs: readonly Measured[]): Measured {
  return runs.reduce((sum, r) => ({ ms: sum.ms + r.ms, builds: sum.builds + r.builds }), { ms: 0, builds: 0 });
}

function median(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((x, y) => x.ms - y.ms);
  const middle = sorted[Math.floor(sorted.length / 2)];
  if (!middle) throw new Error('no runs to take the median of');
  return middle;
}

function load(): string {
  return loadavg().map((n) => n.toFixed(2)).join(' ');
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const engine = loadEngineEnv();
  const platforms = benchPlatforms();
  const changed = { chain: 0, level: 0 };
  const affected = affectedBy(platforms, changed);
  const dir = mkdtempSync(join(tmpdir(), 'iw-build-bench-'));
  const prefix = uniqueRepoPrefix('build-bench');
  const loadAtStart = load();
  const bench: Bench = {
    dir,
    manifest: generate(dir, engine.registry, platforms),
    registry: engine.registry,
    prefix,
    wrapper: countingDocker(dir, engine.docker),
    cli: await cliPath(),
  };
  try {
    await ensureBaseImages(prefix);
    const imageInfo = ['--image-info', join(dir, 'image-info.json'), ...withBaseVar(bench)];

    const iwWarmUp = await imagewright(bench, imageInfo);
    const dockerWarmUp = await plainDocker(bench, platforms);

    // Seconds-long runs on a shared machine swing by a factor of 2: take the median of three.
    const iwNoChangeRuns = await repeat(NO_CHANGE_RUNS, () => imagewright(bench, imageInfo));
    const iwNoChangeLabelsRuns = await repeat(NO_CHANGE_RUNS, () => imagewright(bench, withBaseVar(bench)));
    const iwNoChange = median(iwNoChangeRuns);
    const iwNoChangeLabels = median(iwNoChangeLabelsRuns);
    const dockerNoChange = await plainDocker(bench, platforms);

    // Load drifts while the other engineers work: alternate the tools (ABBA) and compare the sums.
    // Every run gets new content of its own, so no run finds another's build of it in the BuildKit cache.
    const builderPayload = join(dir, `src/${repoName(changed.chain)}/l${changed.level}`, 'payload.txt');
    const iwChangeRuns: Measured[] = [];
    const dockerChangeRuns: Measured[] = [];
    let change = 0;
    const changeThen = async (measure: () => Promise<Measured>, into: Measured[]): Promise<void> => {
      change += 1;
      writeFileSync(builderPayload, `payload of ${platformName(changed)}, change ${change}\n`);
      into.push(await measure());
    };
    for (let round = 0; round < CHANGE_ROUNDS; round++) {
      const iwTurn = (): Promise<void> => changeThen(() => imagewright(bench, imageInfo), iwChangeRuns);
      const dockerTurn = (): Promise<void> => changeThen(() => plainDocker(bench, affected), dockerChangeRuns);
      if (round % 2 === 0) await iwTurn().then(dockerTurn);
      else await dockerTurn().then(iwTurn);
    }
    const iwChange = total(iwChangeRuns);
    const dockerChange = total(dockerChangeRuns);

    const speedup = dockerNoChange.ms / iwNoChange.ms;
    const speedupLabels = dockerNoChange.ms / iwNoChangeLabels.ms;
    const changeRatio = iwChange.ms / dockerChange.ms;
    const rows: string[][] = [
      ['scenario', 'tool', 'wall time', 'builds run', 'ratio', 'target', 'result'],
      ['warm-up (empty registry)', 'imagewright build --push', seconds(iwWarmUp.ms), String(iwWarmUp.builds), '-', '-', '-'],
      ['warm-up (empty registry)', `docker build + push, all ${platforms.length}`, seconds(dockerWarmUp.ms), String(dockerWarmUp.builds), '-', '-', '-'],
      ['(a) no change', 'imagewright build --push', seconds(iwNoChange.ms), String(iwNoChange.builds), `${speedup.toFixed(1)}x faster`, '>= 20x', speedup >= 20 ? 'met' : 'NOT met'],
      ['(a) no change', '  same, no image-info (labels)', seconds(iwNoChangeLabels.ms), String(iwNoChangeLabels.builds), `${speedupLabels.toFixed(1)}x faster`, '>= 20x', speedupLabels >= 20 ? 'met' : 'NOT met'],
      ['(a) no change', `docker build + push, all ${platforms.length}`, seconds(dockerNoChange.ms), String(dockerNoChange.builds), 'baseline', '-', '-'],
      [`(b) builder changed, ${CHANGE_ROUNDS} times`, 'imagewright build --push', seconds(iwChange.ms), String(iwChange.builds), `${changeRatio.toFixed(2)}x`, '<= 1.2x', changeRatio <= 1.2 ? 'met' : 'NOT met'],
      [`(b) builder changed, ${CHANGE_ROUNDS} times`, `docker build + push, the ${affected.length} affected`, seconds(dockerChange.ms), String(dockerChange.builds), 'baseline', '-', '-'],
    ];
    console.log(`build benchmark: ${platforms.length} platforms (${CHAINS} chains ${DEPTH} deep; chains ${BUILDER_CONSUMERS.join(', ')} copy from chain 0's root), ${engine.docker} with BuildKit, ${new Date().toISOString()}`);
    console.log(table(rows));
    console.log(`(b) changes ${platformName(changed)}'s build context, which reaches ${affected.length} platforms`);
    console.log(`(a) imagewright rows are the median of ${NO_CHANGE_RUNS} runs: ${iwNoChangeRuns.map((r) => seconds(r.ms)).join(', ')} with image-info; ${iwNoChangeLabelsRuns.map((r) => seconds(r.ms)).join(', ')} from labels`);
    const noChangeBuilds = [...iwNoChangeRuns, ...iwNoChangeLabelsRuns].reduce((n, r) => n + r.builds, 0);
    console.log(`(b) rows are sums over ${CHANGE_ROUNDS} changes each, in ABBA order: imagewright ${iwChangeRuns.map((r) => seconds(r.ms)).join(', ')}; docker ${dockerChangeRuns.map((r) => seconds(r.ms)).join(', ')}`);
    if (noChangeBuilds !== 0 || iwChangeRuns.some((r) => r.builds !== affected.length)) {
      console.log(`note: imagewright ran ${noChangeBuilds} builds in the no-change runs and ${iwChangeRuns.map((r) => r.builds).join(', ')} after the changes (expected 0 and ${affected.length} each)`);
    }
    console.log(`load average (1, 5, 15 min) at start: ${loadAtStart}; at end: ${load()}; cores: ${availableParallelism()}`);
  } finally {
    await removeLocalImages(`${engine.registry}/${prefix}/`);
    if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Removes what the run left in the engine (pushed repos stay under the unique prefix): tags first,
 * then the `repo@digest` references pushes leave behind, which `docker images` shows as `<none>`.
 * Never by image ID: identical images under other prefixes share it.
 */
async function removeLocalImages(repoPrefix: string): Promise<void> {
  const ours = async (): Promise<Array<{ tag: string | undefined; digest: string | undefined }>> => {
    const listed = await docker(['images', '--digests', '--format', '{{.Repository}}\t{{.Tag}}\t{{.Digest}}'], { allowFailure: true });
    return listed.stdout
      .split('\n')
      .map((line) => line.split('\t'))
      .filter(([repo]) => repo?.startsWith(repoPrefix))
      .map(([repo = '', tag = '<none>', digest = '<none>']) => ({
        tag: tag === '<none>' ? undefined : `${repo}:${tag}`,
        digest: digest === '<none>' ? undefined : `${repo}@${digest}`,
      }));
  };
  await removeInBatches((await ours()).flatMap((i) => (i.tag ? [i.tag] : [])));
  await removeInBatches((await ours()).flatMap((i) => (i.digest ? [i.digest] : [])));
}

async function removeInBatches(names: readonly string[]): Promise<void> {
  for (let i = 0; i < names.length; i += 50) await docker(['rmi', ...names.slice(i, i + 50)], { allowFailure: true });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ').trimEnd()).join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
