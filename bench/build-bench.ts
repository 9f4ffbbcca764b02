/**
 * Build benchmark (issue 3). Generates a repository of 50 platforms — 10 chains 5 deep, multi-stage
 * Dockerfiles whose intermediate stage starts FROM the internal upstream and whose final stage copies
 * from it, two chains rooted on a shared builder — on a busybox base pushed to the loopback registry,
 * then times whole commands on the shared engine:
 *
 *   (a) no change:       `imagewright build --push` versus `docker build` + `docker push` of every
 *                        platform with a warm BuildKit cache (the alternative the seed proposed);
 *   (b) builder changed: `imagewright build --push` versus `docker build` + `docker push` of exactly
 *                        the 15 platforms the change reaches (two changes per tool, in ABBA order);
 *   (c) one chain changed (issue 12): the root of a chain no other chain reads changes, so exactly
 *                        its 5 platforms rebuild; `imagewright build --push` versus `docker build` +
 *                        `docker push` of exactly those 5, three changes per tool in alternating order
 *                        (ABBAAB), medians compared. imagewright runs with --verbose, and the table
 *                        after it shows where its time went (the medians of its own timings).
 *
 * Builds run are counted by a wrapper around the docker client that logs every invocation. Prints a
 * table; asserts nothing about time (the machine is shared and noisy), exits non-zero only on errors.
 *
 *   node --import tsx bench/build-bench.ts [--scenarios a,b,c] [--rounds N]     (needs scripts/setup-engine.sh to have run)
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { cliPath } from '../test/helpers/cli.js';
import { docker, engineProcessEnv, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../test/helpers/engine.js';
import { argValue } from './process.js';

const CHAINS = 10;
const DEPTH = 5;
/** Chains whose root copies from chain 0's root (the shared builder): a change there reaches 3 chains. */
const BUILDER_CONSUMERS = [1, 2];
const PLATFORM = 'linux/amd64';
const NO_CHANGE_RUNS = 3;
const CHANGE_ROUNDS = 2;
/** (c): the chain whose root changes; no other chain reads it. */
const LONE_CHAIN = 3;
/** (c): changes per tool; `--rounds N` takes more for steadier medians (odd keeps the median one run). */
const CHAIN_ROUNDS = Number(argValue('--rounds') ?? 3);
if (!Number.isInteger(CHAIN_ROUNDS) || CHAIN_ROUNDS < 1) throw new Error(`--rounds expects a whole number of at least 1, got ${argValue('--rounds')}`);
const scenarios = new Set((argValue('--scenarios') ?? 'a,b,c').split(','));

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
  /** From `--verbose`: ms per phase. */
  timings?: Map<string, number>;
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
  const timings = /^timings: (.*)$/m.exec(stderr)?.[1];
  if (!timings) return { ms, builds: count() };
  return { ms, builds: count(), timings: new Map(timings.split(', ').map((part) => [part.replace(/ \d+ ms$/, ''), Number(/(\d+) ms$/.exec(part)?.[1] ?? 0)])) };
}

/** The alternative: `docker build` then `docker push` of every tag, one platform after another. */
async function plainDocker(bench: Bench, platforms: readonly BenchPlatform[]): Promise<Measured> {
  const count = bench.wrapper.buildsSince();
  const repo = (chain: number): string => `${bench.registry}/${bench.prefix}/docker/${repoName(chain)}`;
  const env = engineProcessEnv();
  const started = performance.now();
  const timings = new Map([['docker build', 0], ['docker push', 0]]);
  const timed = async (phase: string, task: () => Promise<void>): Promise<void> => {
    const at = performance.now();
    await task();
    timings.set(phase, (timings.get(phase) ?? 0) + performance.now() - at);
  };
  for (const p of platforms) {
    const refs = p.tags.map((t) => `${repo(p.chain)}:${t}`);
    const args = ['build', '--platform', PLATFORM, '-f', join(p.folder, 'Dockerfile'), '--build-arg', `BASE_REGISTRY=${bench.registry}/${bench.prefix}`];
    if (p.upstream) args.push('--build-arg', `UPSTREAM=${repo(p.upstream.chain)}:l${p.upstream.level}`);
    for (const ref of refs) args.push('-t', ref);
    await timed('docker build', () => mustRun(bench.wrapper.path, [...args, p.folder], env, bench.dir));
    for (const ref of refs) await timed('docker push', () => mustRun(bench.wrapper.path, ['push', ref], env, bench.dir));
  }
  return { ms: performance.now() - started, builds: count(), timings };
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

const seconds = (ms: number, digits = 1): string => `${(ms / 1000).toFixed(digits)} s`;

/** Phase, imagewright's runs and median, then plain docker's median: from the `timings:` lines of --verbose runs and the baseline's own timing. */
function timingRows(iwRuns: readonly Measured[], dockerRuns: readonly Measured[]): string[][] {
  const phases = [...new Set(iwRuns.flatMap((r) => [...(r.timings ?? new Map<string, number>()).keys()]))];
  const middle = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const rows = [['phase', ...iwRuns.map((_, i) => `imagewright run ${i + 1}`), 'imagewright median', 'plain docker median']];
  for (const phase of phases) {
    const values = iwRuns.map((r) => r.timings?.get(phase) ?? 0);
    const docker = dockerRuns.some((r) => r.timings?.has(phase)) ? String(Math.round(middle(dockerRuns.map((r) => r.timings?.get(phase) ?? 0)))) : '-';
    rows.push([phase, ...values.map((v) => String(Math.round(v))), String(Math.round(middle(values))), docker]);
  }
  rows.push(['(wall time, measured outside)', ...iwRuns.map((r) => String(Math.round(r.ms))), String(Math.round(median(iwRuns).ms)), String(Math.round(median(dockerRuns).ms))]);
  return rows;
}

async function main(): Promise<void> {
  const engine = loadEngineEnv();
  const platforms = benchPlatforms();
  const changed = { chain: 0, level: 0 };
  const affected = affectedBy(platforms, changed);
  const lone = { chain: LONE_CHAIN, level: 0 };
  const loneChain = affectedBy(platforms, lone);
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
    const notes: string[] = [];

    const iwWarmUp = await imagewright(bench, imageInfo);
    // (c) alone reads only its chain: the baseline warms up on those platforms.
    const dockerWarmUp = await plainDocker(bench, scenarios.has('a') || scenarios.has('b') ? platforms : loneChain);
    const rows: string[][] = [
      ['scenario', 'tool', 'wall time', 'builds run', 'ratio', 'target', 'result'],
      ['warm-up (empty registry)', 'imagewright build --push', seconds(iwWarmUp.ms), String(iwWarmUp.builds), '-', '-', '-'],
      ['warm-up (empty registry)', `docker build + push, ${dockerWarmUp.builds} platforms`, seconds(dockerWarmUp.ms), String(dockerWarmUp.builds), '-', '-', '-'],
    ];

    if (scenarios.has('a')) {
      // Seconds-long runs on a shared machine swing by a factor of 2: take the median of three.
      const iwNoChangeRuns = await repeat(NO_CHANGE_RUNS, () => imagewright(bench, imageInfo));
      const iwNoChangeLabelsRuns = await repeat(NO_CHANGE_RUNS, () => imagewright(bench, withBaseVar(bench)));
      const iwNoChange = median(iwNoChangeRuns);
      const iwNoChangeLabels = median(iwNoChangeLabelsRuns);
      const dockerNoChange = await plainDocker(bench, platforms);
      const speedup = dockerNoChange.ms / iwNoChange.ms;
      const speedupLabels = dockerNoChange.ms / iwNoChangeLabels.ms;
      rows.push(
        ['(a) no change', 'imagewright build --push', seconds(iwNoChange.ms), String(iwNoChange.builds), `${speedup.toFixed(1)}x faster`, '>= 20x', speedup >= 20 ? 'met' : 'NOT met'],
        ['(a) no change', '  same, no image-info (labels)', seconds(iwNoChangeLabels.ms), String(iwNoChangeLabels.builds), `${speedupLabels.toFixed(1)}x faster`, '>= 20x', speedupLabels >= 20 ? 'met' : 'NOT met'],
        ['(a) no change', `docker build + push, all ${platforms.length}`, seconds(dockerNoChange.ms), String(dockerNoChange.builds), 'baseline', '-', '-'],
      );
      notes.push(`(a) imagewright rows are the median of ${NO_CHANGE_RUNS} runs: ${iwNoChangeRuns.map((r) => seconds(r.ms)).join(', ')} with image-info; ${iwNoChangeLabelsRuns.map((r) => seconds(r.ms)).join(', ')} from labels`);
      const noChangeBuilds = [...iwNoChangeRuns, ...iwNoChangeLabelsRuns].reduce((n, r) => n + r.builds, 0);
      if (noChangeBuilds !== 0) notes.push(`note: imagewright ran ${noChangeBuilds} builds in the no-change runs (expected 0)`);
    }

    // Every change writes content no earlier run used, so no run finds another's build of it in the BuildKit cache.
    let change = 0;
    const changeThen = async (at: { chain: number; level: number }, measure: () => Promise<Measured>, into: Measured[]): Promise<void> => {
      change += 1;
      writeFileSync(join(dir, `src/${repoName(at.chain)}/l${at.level}`, 'payload.txt'), `payload of ${platformName(at)}, change ${change}\n`);
      into.push(await measure());
    };

    if (scenarios.has('b')) {
      // Load drifts while the other engineers work: alternate the tools (ABBA) and compare the sums.
      const iwChangeRuns: Measured[] = [];
      const dockerChangeRuns: Measured[] = [];
      for (let round = 0; round < CHANGE_ROUNDS; round++) {
        const iwTurn = (): Promise<void> => changeThen(changed, () => imagewright(bench, imageInfo), iwChangeRuns);
        const dockerTurn = (): Promise<void> => changeThen(changed, () => plainDocker(bench, affected), dockerChangeRuns);
        if (round % 2 === 0) await iwTurn().then(dockerTurn);
        else await dockerTurn().then(iwTurn);
      }
      const iwChange = total(iwChangeRuns);
      const dockerChange = total(dockerChangeRuns);
      const changeRatio = iwChange.ms / dockerChange.ms;
      rows.push(
        [`(b) builder changed, ${CHANGE_ROUNDS} times`, 'imagewright build --push', seconds(iwChange.ms), String(iwChange.builds), `${changeRatio.toFixed(2)}x`, '<= 1.2x', changeRatio <= 1.2 ? 'met' : 'NOT met'],
        [`(b) builder changed, ${CHANGE_ROUNDS} times`, `docker build + push, the ${affected.length} affected`, seconds(dockerChange.ms), String(dockerChange.builds), 'baseline', '-', '-'],
      );
      notes.push(`(b) changes ${platformName(changed)}'s build context, which reaches ${affected.length} platforms`);
      notes.push(`(b) rows are sums over ${CHANGE_ROUNDS} changes each, in ABBA order: imagewright ${iwChangeRuns.map((r) => seconds(r.ms)).join(', ')}; docker ${dockerChangeRuns.map((r) => seconds(r.ms)).join(', ')}`);
      if (iwChangeRuns.some((r) => r.builds !== affected.length)) notes.push(`note: imagewright ran ${iwChangeRuns.map((r) => r.builds).join(', ')} builds after the changes (expected ${affected.length} each)`);
    }

    let breakdown: string[][] | undefined;
    if (scenarios.has('c')) {
      // The scenario: one chain of 5 rebuilds. Alternating order (ABBAAB), medians compared.
      const iwRuns: Measured[] = [];
      const dockerRuns: Measured[] = [];
      const verbose = [...imageInfo, '--verbose'];
      for (let round = 0; round < CHAIN_ROUNDS; round++) {
        const iwTurn = (): Promise<void> => changeThen(lone, () => imagewright(bench, verbose), iwRuns);
        const dockerTurn = (): Promise<void> => changeThen(lone, () => plainDocker(bench, loneChain), dockerRuns);
        if (round % 2 === 0) await iwTurn().then(dockerTurn);
        else await dockerTurn().then(iwTurn);
      }
      const iw = median(iwRuns);
      const docker = median(dockerRuns);
      const ratio = iw.ms / docker.ms;
      rows.push(
        [`(c) one chain changed, median of ${CHAIN_ROUNDS}`, 'imagewright build --push', seconds(iw.ms, 2), String(iw.builds), `${ratio.toFixed(2)}x`, '<= 1.1x', ratio <= 1.1 ? 'met' : 'NOT met'],
        [`(c) one chain changed, median of ${CHAIN_ROUNDS}`, `docker build + push, the ${loneChain.length} of the chain`, seconds(docker.ms, 2), String(docker.builds), 'baseline', '-', '-'],
      );
      notes.push(`(c) changes ${platformName(lone)}'s build context, which reaches ${loneChain.length} platforms (its chain); runs in alternating order: imagewright ${iwRuns.map((r) => seconds(r.ms, 2)).join(', ')}; docker ${dockerRuns.map((r) => seconds(r.ms, 2)).join(', ')}`);
      if (iwRuns.some((r) => r.builds !== loneChain.length)) notes.push(`note: imagewright ran ${iwRuns.map((r) => r.builds).join(', ')} builds after the changes (expected ${loneChain.length} each)`);
      breakdown = timingRows(iwRuns, dockerRuns);
    }

    console.log(`build benchmark: ${platforms.length} platforms (${CHAINS} chains ${DEPTH} deep; chains ${BUILDER_CONSUMERS.join(', ')} copy from chain 0's root), ${engine.docker} with BuildKit, ${new Date().toISOString()}`);
    console.log(table(rows));
    for (const note of notes) console.log(note);
    if (breakdown) {
      console.log('\n(c) where imagewright\'s time went (--verbose timings; median over its runs of each phase, ms; phases may overlap):');
      console.log(table(breakdown));
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
