/**
 * The real repository (issue 9): `graph` and `plan` on a local clone of
 * dotnet/dotnet-buildtools-prereqs-docker, staged as its pipeline stages it, against the loopback
 * registry. Nothing of the clone is committed or changed: it is copied to a temporary folder.
 *
 *   npm run bench:real -- /path/to/clone
 *
 * 1. Copies the clone and stages `eng/common` into the folder of every Dockerfile that copies it
 *    (what the pipeline's eng/Stage-EngCommon.ps1 does before building), after a plan that shows the
 *    warnings an unstaged checkout gives.
 * 2. mcr.microsoft.com and the other public registries are out of reach, so every external image the
 *    repository reads is replaced by a tiny stand-in pushed to the loopback registry, one image per
 *    platform that reads it, under an index (Windows entries carry their os.version).
 *    `--base-override-regex/--base-override-sub` send every reference but the repository's own
 *    (`mcr.microsoft.com/dotnet-buildtools/prereqs`) there; internal images are staged under
 *    `--registry-override 127.0.0.1:PORT --repo-prefix <stage>/`, as the pipeline stages them.
 * 3. Writes an image-info recording every platform at its current build key, with a small image of its
 *    own pushed to its staged tag (test/helpers/scale-repo.ts recordScaleRepoBuilt): nothing is
 *    built, so Windows platforms, which this Linux engine cannot build, are recorded like the others.
 * 4. Runs the compiled CLI: `graph` with and without the staging options (edges compared), a cold
 *    `plan` (a missing image-info: everything is new) and a warm `plan` from the written image-info,
 *    which must build 0.
 *
 * Prints the figures as a Markdown table (docs/benchmarks.md). Asserts only that the warm plan
 * builds nothing and that the graphs are equal. Needs scripts/setup-engine.sh. BENCH_KEEP=1 keeps the copy.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashContext } from '../src/context/index.js';
import { sha256Digest } from '../src/digest.js';
import { externalResolutions } from '../src/plan/index.js';
import { parsePlatform, type TargetPlatform } from '../src/platform.js';
import { createRegistryClient, type RegistryClient } from '../src/registry/index.js';
import { loadRepository } from '../src/shell/plan.js';
import { cliPath, runCli } from '../test/helpers/cli.js';
import { engineProcessEnv, loadEngineEnv, uniqueRepoPrefix } from '../test/helpers/engine.js';
import { recordScaleRepoBuilt } from '../test/helpers/scale-repo.js';

const clone = process.argv[2];
if (!clone || !existsSync(join(clone, 'manifest.json'))) {
  console.error('usage: npm run bench:real -- /path/to/dotnet-buildtools-prereqs-docker (a clone with manifest.json)');
  process.exit(2);
}
/** The repository's own images: everything else is external. */
const INTERNAL = 'mcr.microsoft.com/dotnet-buildtools/prereqs';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Timed {
  ms: number;
  stdout: string;
  stderr: string;
}

/** The bundled CLI (test/helpers/cli.ts), timed; bundling happens once, before the first timing. */
async function imagewright(args: string[], cwd: string): Promise<Timed> {
  await cliPath();
  const started = performance.now();
  const result = await runCli(args, { cwd, env: engineProcessEnv(), timeoutMs: 10 * 60_000 });
  const ms = performance.now() - started;
  if (result.code !== 0) throw new Error(`imagewright ${args.join(' ')} failed (${result.code}):\n${result.stderr.split('\n').slice(-20).join('\n')}`);
  return { ms, stdout: result.stdout, stderr: result.stderr };
}

/** eng/Stage-EngCommon.ps1: `eng/common` into `<folder>/eng/common` of every Dockerfile with `COPY eng/common/...`. */
function stageEngCommon(root: string): number {
  let staged = 0;
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name === 'Dockerfile' && /^\s*COPY\s+eng\/common\//m.test(readFileSync(path, 'utf8'))) {
        cpSync(join(root, 'eng', 'common'), join(dir, 'eng', 'common'), { recursive: true });
        staged++;
      }
    }
  };
  visit(join(root, 'src'));
  return staged;
}

/** One tiny image per platform under an index tagged `ref`'s tag: what plan resolves an external reference to. */
async function pushStandIn(client: RegistryClient, ref: string, platforms: TargetPlatform[]): Promise<void> {
  const colon = ref.lastIndexOf(':');
  const repoRef = ref.slice(0, colon);
  const tag = ref.slice(colon + 1);
  const layer = Buffer.from(`stand-in for ${ref}\n`);
  const layerDigest = await client.putBlob(repoRef, layer);
  const entries = [];
  for (const platform of platforms) {
    const config = Buffer.from(JSON.stringify({ architecture: platform.architecture, os: platform.os, ...(platform.variant && { variant: platform.variant }), ...(platform.ociOsVersion && { 'os.version': `${platform.ociOsVersion}.1` }), rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
    const configDigest = await client.putBlob(repoRef, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }] }));
    await client.putManifest(`${repoRef}@${sha256Digest(manifest)}`, manifest, OCI_MANIFEST);
    entries.push({
      mediaType: OCI_MANIFEST,
      digest: sha256Digest(manifest),
      size: manifest.length,
      platform: { os: platform.os, architecture: platform.architecture, ...(platform.variant && { variant: platform.variant }), ...(platform.ociOsVersion && { 'os.version': `${platform.ociOsVersion}.1` }) },
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: entries }));
  await client.putManifest(`${repoRef}:${tag}`, index, OCI_INDEX);
}

interface PlanJson {
  platforms: Array<{ id: string; decision: 'build' | 'reuse'; platform?: { os?: string } }>;
  indexes: Array<{ action: string }>;
  registryRequests?: number;
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

async function main(): Promise<void> {
  const source = clone as string;
  const commit = execFileSync('git', ['-C', source, 'rev-parse', '--short=8', 'HEAD'], { encoding: 'utf8' }).trim();
  const { registry } = loadEngineEnv();
  const dir = mkdtempSync(join(tmpdir(), 'iw-real-bench-'));
  const startLoad = load();
  try {
    cpSync(source, dir, { recursive: true, filter: (path) => relative(source, path).split('/')[0] !== '.git' });
    const prefix = uniqueRepoPrefix('real');
    const mirror = `${registry}/${prefix}/mirror/`;
    const staging = [
      '--registry-override', registry,
      '--repo-prefix', `${prefix.replace(/\//g, '-')}-stage/`,
      // Every reference but the repository's own, wherever it is hosted, comes from the mirror.
      '--base-override-regex', `^(?!${INTERNAL.replace(/\./g, '\\.')}[:@])(.+)$`,
      '--base-override-sub', `${mirror}$1`,
    ];
    const options = {
      registryOverride: registry,
      repoPrefix: `${prefix.replace(/\//g, '-')}-stage/`,
      baseOverrideRegex: staging[5] as string,
      baseOverrideSub: staging[7] as string,
    };
    const manifest = ['--manifest', join(dir, 'manifest.json')];

    // The graph, with and without the staging options.
    const plainGraph = await imagewright(['graph', ...manifest, '--format', 'json'], dir);
    const stagedGraph = await imagewright(['graph', ...manifest, '--format', 'json', ...staging], dir);
    const edges = (JSON.parse(plainGraph.stdout) as { edges: unknown[] }).edges.length;
    if (stagedGraph.stdout !== plainGraph.stdout) throw new Error('the graph under --registry-override/--repo-prefix differs from the graph without them');

    // Stand-ins for every external image, for every platform that reads it.
    const repo = await loadRepository({ manifestFile: join(dir, 'manifest.json'), ...options, skipContexts: true, warn: () => undefined });
    const byRef = new Map<string, TargetPlatform[]>();
    for (const { ref, platform } of externalResolutions(repo.graph)) {
      const target = parsePlatform(platform);
      if (!target) throw new Error(`unreadable platform ${platform}`);
      byRef.set(ref, [...(byRef.get(ref) ?? []), target]);
    }
    const client = createRegistryClient();
    await Promise.all([...byRef].map(([ref, platforms]) => pushStandIn(client, ref, platforms)));

    // Unstaged, plan warns about the files the pipeline stages; then stage them as it does.
    const unstaged = await imagewright(['plan', ...manifest, '--image-info', join(dir, 'none.json'), '--format', 'json', ...staging], dir);
    const warnings = unstaged.stderr.split('\n').filter((l) => l.includes('is not in the build context'));
    const stagedFolders = stageEngCommon(dir);

    const cold = await imagewright(['plan', ...manifest, '--image-info', join(dir, 'none.json'), '--format', 'json', ...staging], dir);
    const coldPlan = JSON.parse(cold.stdout) as PlanJson;
    const imageInfo = join(dir, 'image-info.json');
    await recordScaleRepoBuilt({ dir, manifest: join(dir, 'manifest.json') }, imageInfo, client, 16, options);
    const warm = await imagewright(['plan', ...manifest, '--image-info', imageInfo, '--format', 'json', ...staging], dir);
    const warmPlan = JSON.parse(warm.stdout) as PlanJson;
    const building = warmPlan.platforms.filter((p) => p.decision === 'build');
    const windows = warmPlan.platforms.filter((p) => p.id.includes('windows') || p.id.includes('nanoserver') || p.id.includes('servercore')).length;
    const contextFiles = (JSON.parse(readFileSync(imageInfo, 'utf8')) as { repos: Array<{ images: Array<{ platforms: Array<{ inputs?: { contextFiles?: object } }> }> }> }).repos
      .flatMap((r) => r.images.flatMap((i) => i.platforms.map((p) => Object.keys(p.inputs?.contextFiles ?? {}).length)))
      .reduce((a, b) => a + b, 0);

    // Baseline in the same run: what key format 2 hashed, every file of every context folder.
    let wholeFiles = 0;
    for (const r of repo.manifest.repos) {
      for (const image of r.images) {
        for (const p of image.platforms) wholeFiles += Object.keys((await hashContext(p.contextDir, p.dockerfilePath)).files).length;
      }
    }
    const rows: Array<[string, string]> = [
      ['commit of the clone', commit],
      ['platforms (of which Windows, recorded but not buildable here)', `${warmPlan.platforms.length} (${windows})`],
      ['graph edges, without and with `--registry-override`/`--repo-prefix`', `${edges}, equal`],
      ['external images (reference, platform) given a stand-in', `${[...byRef.values()].reduce((a, p) => a + p.length, 0)} (${byRef.size} references)`],
      ['`graph` wall time', s(plainGraph.ms)],
      ['warnings before staging `eng/common` (folders staged)', `${warnings.length} (${stagedFolders})`],
      ['cold `plan` (image-info missing: all new): wall time, registry requests, to build', `${s(cold.ms)}, ${coldPlan.registryRequests}, ${coldPlan.platforms.filter((p) => p.decision === 'build').length}`],
      ['warm `plan` (every platform recorded at its key): wall time, registry requests', `${s(warm.ms)}, ${warmPlan.registryRequests}`],
      ['warm `plan`: platforms to build', String(building.length)],
      ['warm `plan`: shared-tag indexes to create or move', String(warmPlan.indexes.filter((i) => i.action !== 'unchanged').length)],
      ['context files keyed, over all platforms (baseline: every file of every context folder, as key format 2 hashed)', `${contextFiles} (${wholeFiles})`],
      ['load average (start → end)', `${startLoad} → ${load()}`],
    ];
    console.log('| measure | value |\n|-|-|');
    for (const [measure, value] of rows) console.log(`| ${measure} | ${value} |`);
    for (const warning of warnings.slice(0, 3)) console.error(`(unstaged) ${warning}`);
    if (building.length > 0) throw new Error(`the warm plan builds ${building.length}: ${building.map((p) => p.id).slice(0, 5).join(', ')}`);
  } finally {
    if (process.env.BENCH_KEEP) console.error(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

await main();
