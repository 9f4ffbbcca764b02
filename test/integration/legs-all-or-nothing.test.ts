/**
 * The CI scale-out is all-or-nothing (issue 13, item 6), simulated as CI runs it: `matrix` plans, each
 * leg builds in its own fresh checkout with the plan (`build --leg --plan`), wave after wave, each wave
 * merged for the next; then the final merge. A missing leg file and a leg file of another plan are
 * refused with exit 2, one line, nothing written; a merge --publish without the build's --repo-prefix
 * keeps every record; a leg run twice reuses what its first attempt pushed, and a leg that built anew
 * under a later wave's feet is caught by the merge.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MatrixEntry, MatrixPlan } from '../../src/matrix/index.js';
import { snapshotTree } from '../helpers/adversarial.js';
import { type CliResult, runCli, succeeded } from '../helpers/cli.js';
import { engineProcessEnv, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';
import { copyExample } from '../helpers/legs.js';

interface LegRecord {
  dockerfile: string;
  digest: string;
  buildKey?: string;
  isUnchanged?: boolean;
  fromImages?: Array<{ internal: boolean; buildKey?: string; digest: string }>;
}

interface LegFile {
  imagewrightLeg?: { plan: MatrixPlan; leg: string };
  repos: Array<{ repo: string; images: Array<{ platforms: LegRecord[] }> }>;
}

function legRecords(file: LegFile): LegRecord[] {
  return file.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
}

/** Exit 2 with one error line matching `message`, the folder as it was. */
function refused(result: CliResult, message: RegExp, dir: string, before: Map<string, string>): void {
  assert.equal(result.code, 2, `exit code; stderr:\n${result.stderr.slice(-3000)}`);
  const lines = result.stderr.split('\n').filter((l) => l && !l.startsWith('imagewright: warning:'));
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? '', message);
  assert.deepEqual(snapshotTree(dir), before, 'something was written');
}

async function readLegFile(file: string): Promise<LegFile> {
  return JSON.parse(await readFile(file, 'utf8')) as LegFile;
}

describe('the CI scale-out is all-or-nothing', { timeout: 20 * 60_000 }, () => {
  let root: string;
  let prefix: string;
  let env: NodeJS.ProcessEnv;
  let plan: MatrixPlan;
  let legs: MatrixEntry[];
  let coordinator: string;
  /** Leg name → its leg file. */
  const legFiles = new Map<string, string>();

  const cli = (args: string[], cwd: string, withPrefix = true): Promise<CliResult> =>
    runCli([...args, ...(withPrefix ? ['--repo-prefix', prefix] : [])], { cwd, env, timeoutMs: 10 * 60_000 });
  const seconds = async (run: Promise<CliResult>, bound: number): Promise<CliResult> => {
    const started = Date.now();
    const result = await run;
    const took = (Date.now() - started) / 1000;
    assert.ok(took <= bound, `took ${took} s, bound ${bound} s`);
    return result;
  };
  /** One leg in a fresh checkout of the repository, as a CI job runs it. */
  const runLeg = async (leg: MatrixEntry, checkout: string, out: string, extra: string[] = [], ofPlan: MatrixPlan = plan): Promise<CliResult> => {
    const dir = await copyExample(root, checkout);
    if (leg.wave > 0) await cp(join(coordinator, 'waves.json'), join(dir, 'image-info.json'));
    return succeeded(await cli(['build', '--push', '--leg', leg.leg, '--plan', JSON.stringify(ofPlan), '-i', 'image-info.json', '--image-info-out', out, ...extra], dir), `leg ${leg.leg}`);
  };

  before(async () => {
    loadEngineEnv();
    env = engineProcessEnv();
    await ensureBaseImages();
    prefix = `${uniqueRepoPrefix('all-or-nothing')}/`;
    root = await mkdtemp(join(tmpdir(), 'iw-legs-aon-'));
    coordinator = await copyExample(root, 'coordinator');
    const matrix = JSON.parse(succeeded(await cli(['matrix', '--format', 'json'], coordinator), 'matrix').stdout) as { waves: number; plan: MatrixPlan; legs: MatrixEntry[] };
    plan = matrix.plan;
    legs = matrix.legs;
    assert.equal(matrix.waves, 2);
    assert.deepEqual(
      plan.legs.map((l) => l.name),
      legs.map((l) => l.leg),
    );
    // As the example workflow: before each wave, the legs of all the earlier waves are merged.
    const files: string[] = [];
    for (let wave = 0; wave < matrix.waves; wave++) {
      for (const leg of legs.filter((l) => l.wave === wave)) {
        const out = join(root, `${leg.leg}.json`);
        await runLeg(leg, `leg-${leg.leg}`, out);
        legFiles.set(leg.leg, out);
        files.push(out);
      }
      // Between waves: the legs of waves 0..wave are expected, no more.
      succeeded(await cli(['merge-image-info', '--plan', JSON.stringify(plan), '--wave', String(wave), '--out', 'waves.json', ...files], coordinator), `merge wave ${wave}`);
    }
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('each leg file carries the plan and its leg name', async () => {
    for (const [name, file] of legFiles) {
      const stamp = (await readLegFile(file)).imagewrightLeg;
      assert.equal(stamp?.plan.id, plan.id);
      assert.equal(stamp?.leg, name);
    }
  });

  it('a missing leg file: merge refuses with exit 2 naming the leg, and writes nothing', async () => {
    const [missing, ...rest] = [...legFiles.keys()];
    const before = snapshotTree(coordinator);
    const result = await seconds(cli(['merge-image-info', '--publish', '--out', 'image-info.json', ...rest.map((n) => legFiles.get(n) ?? '')], coordinator), 60);
    refused(result, new RegExp(`^imagewright: error: .+: imagewrightLeg\\.plan\\.legs: plan ${plan.id} has 1 leg\\(s\\) without a leg file among the ${rest.length} given: ${missing} \\(wave \\d\\)`), coordinator, before);
    // The same with the plan given on the command line: the option is named.
    const withPlan = await cli(['merge-image-info', '--plan', JSON.stringify(plan), '--out', 'image-info.json', ...rest.map((n) => legFiles.get(n) ?? '')], coordinator);
    refused(withPlan, /^imagewright: error: --plan: plan \S+ has 1 leg\(s\) without a leg file/, coordinator, before);
  });

  it('a leg file of another plan: merge refuses with exit 2 naming the file, and writes nothing', async () => {
    // The same matrix planned from another image-info is another plan: its id differs, its legs do not.
    const other = JSON.parse(succeeded(await cli(['matrix', '--format', 'json', '-i', 'waves.json'], coordinator), 'matrix again').stdout) as { plan: MatrixPlan };
    assert.notEqual(other.plan.id, plan.id);
    const leg = legs.find((l) => l.wave === 0) as MatrixEntry;
    const dir = await copyExample(root, 'other-plan');
    await cp(join(coordinator, 'waves.json'), join(dir, 'image-info.json'));
    const stray = join(root, 'other-plan.json');
    succeeded(await cli(['build', '--push', '--leg', leg.leg, '--plan', JSON.stringify(other.plan), '-i', 'image-info.json', '--image-info-out', stray], dir), 'leg of the other plan');
    const files = [...legFiles.entries()].map(([name, file]) => (name === leg.leg ? stray : file));
    const before = snapshotTree(coordinator);
    const result = await seconds(cli(['merge-image-info', '--publish', '--plan', JSON.stringify(plan), '--out', 'image-info.json', ...files], coordinator), 60);
    refused(result, new RegExp(`^imagewright: error: .*other-plan\\.json: imagewrightLeg\\.plan\\.id: is ${other.plan.id}: this leg file comes from another plan`), coordinator, before);
  });

  it("merge-image-info --publish without the build's --repo-prefix keeps every leg's record", async () => {
    const result = succeeded(await cli(['merge-image-info', '--publish', '--out', 'image-info.json', ...legFiles.values()], coordinator, false), 'merge without the prefix');
    assert.match(result.stderr, /: 9 platform record\(s\)\n$/);
    const merged = JSON.parse(await readFile(join(coordinator, 'image-info.json'), 'utf8')) as LegFile;
    assert.equal(merged.imagewrightLeg, undefined, 'the merged file carries no leg stamp');
    await rm(join(coordinator, 'image-info.json'));
  });
  it('a leg record that matches no platform of the manifest: merge --publish refuses with exit 2 naming the file and the record', async () => {
    const [name, file] = [...legFiles][0] as [string, string];
    const leg = await readLegFile(file);
    const renamed = leg.repos[0]?.images[0]?.platforms[0];
    assert.ok(renamed);
    renamed.dockerfile = 'src/gone/Dockerfile';
    const stray = join(root, `${name}-gone.json`);
    await writeFile(stray, JSON.stringify(leg));
    const files = [...legFiles].map(([n, f]) => (n === name ? stray : f));
    const before = snapshotTree(coordinator);
    const result = await seconds(cli(['merge-image-info', '--publish', '--plan', JSON.stringify(plan), '--out', 'image-info.json', ...files], coordinator), 60);
    refused(
      result,
      /^imagewright: error: .+-gone\.json: repos\[0\]\.images\[0\]\.platforms\[0\]: \S+ src\/gone\/Dockerfile matches no platform of manifest\.json: give merge-image-info --publish the --registry-override, --repo-prefix and --var the build had$/,
      coordinator,
      before,
    );
  });

  // Last: it pushes anew over one leg's tags.
  it('a leg run twice reuses what its first attempt pushed; a leg that built anew after a later wave read it is refused by the merge', async () => {
    // The wave-0 leg that a wave-1 leg read from.
    const files = new Map(await Promise.all([...legFiles].map(async ([name, file]) => [name, await readLegFile(file)] as const)));
    const wave = new Map(legs.map((l) => [l.leg, l.wave]));
    const readKeys = new Set(
      [...files]
        .filter(([name]) => wave.get(name) === 1)
        .flatMap(([, file]) => legRecords(file).flatMap((r) => (r.fromImages ?? []).filter((f) => f.internal && f.digest).map((f) => f.buildKey))),
    );
    const [upstreamLeg] = [...files].filter(([name, file]) => wave.get(name) === 0 && legRecords(file).some((r) => readKeys.has(r.buildKey)));
    assert.ok(upstreamLeg, 'some wave-0 leg is read by wave 1');
    const [name, first] = upstreamLeg;
    const leg = legs.find((l) => l.leg === name) as MatrixEntry;
    assert.ok(legRecords(first).every((r) => r.isUnchanged === undefined), 'the first attempt built every platform of its leg');

    // Run again in a fresh checkout (as "re-run failed jobs" does): nothing builds, the records are the first attempt's.
    const again = join(root, `${name}-again.json`);
    const rerun = await seconds(runLeg(leg, `leg-${name}-again`, again), 300);
    assert.doesNotMatch(rerun.stderr, /imagewright: building /);
    const second = await readLegFile(again);
    const digests = (file: LegFile) => legRecords(file).map((r) => [r.dockerfile, r.digest, r.buildKey]);
    assert.deepEqual(digests(second), digests(first));
    assert.ok(legRecords(second).every((r) => r.isUnchanged === undefined), "recorded as this run's images, not as unchanged ones");
    assert.equal((rerun.stderr.match(/^.*reused .*\(pushed by an earlier attempt of this leg\)$/gm) ?? []).length, legRecords(first).length, rerun.stderr);
    const withAgain = [...legFiles].map(([n, file]) => (n === name ? again : file));
    const merged = succeeded(await cli(['merge-image-info', '--publish', '--plan', JSON.stringify(plan), '--out', 'rerun.json', ...withAgain], coordinator), 'merge with the re-run leg');
    assert.match(merged.stderr, /: 9 platform record\(s\)\n$/);

    // Only this plan's images are taken: under another plan (a matrix planned anew) the same leg builds over them.
    const otherPlan = join(root, `${name}-other-plan.json`);
    const other = await seconds(runLeg(leg, `leg-${name}-other-plan`, otherPlan, [], { ...plan, id: 'e'.repeat(20) }), 300);
    assert.match(other.stderr, new RegExp(`done: ${legRecords(first).length} built, 0 reused`));
    assert.doesNotMatch(other.stderr, /pushed by an earlier attempt/);

    // A re-run that builds anew (here forced with --no-cache) gives new digests, which wave 1 never read: the merge refuses.
    const rebuilt = join(root, `${name}-rebuilt.json`);
    await runLeg(leg, `leg-${name}-rebuilt`, rebuilt, ['--no-cache']);
    assert.notDeepEqual(digests(await readLegFile(rebuilt)), digests(first));
    const withRebuilt = [...legFiles].map(([n, file]) => (n === name ? rebuilt : file));
    const before = snapshotTree(coordinator);
    const result = await seconds(cli(['merge-image-info', '--publish', '--plan', JSON.stringify(plan), '--out', 'image-info.json', ...withRebuilt], coordinator), 60);
    refused(
      result,
      new RegExp(`^imagewright: error: .+\\.json: repos\\[\\d+\\]\\.images\\[\\d+\\]\\.platforms\\[\\d+\\]\\.fromImages\\[\\d+\\]: .* was built from \\S+ at sha256:[0-9a-f]{64}, but the merged image-info records that image \\(.*\\) at sha256:[0-9a-f]{64}, from .*${name}-rebuilt\\.json: its leg ran again`),
      coordinator,
      before,
    );
  });
});
