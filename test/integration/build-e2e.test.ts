/**
 * `imagewright build` end to end on the example repository, with the real engine and registry: one
 * first build, then each test changes one input in a fresh copy of that state (files, image-info
 * and the registry's tags, which are put back after each test) and checks that exactly the images
 * built from it are rebuilt, with the reason, and nothing else.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliResult, succeeded } from '../helpers/cli.js';
import { loadEngineEnv, updateBaseImage } from '../helpers/engine.js';
import { ALL_TAGS, IMAGE_INFO, recordsOf, registryDigest, runImage, Workspace, type PlanJson, type PlatformJson } from '../helpers/e2e.js';

const CROSS = ['cross-arm64', 'cross-arm', 'cross-riscv64'];

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

/** Tags (first tag of each platform) the plan builds. */
function planned(ws: Workspace, plan: PlanJson): string[] {
  return sorted(plan.platforms.filter((p) => p.decision === 'build').map((p) => tagOf(ws, p.id)));
}

function tagOf(ws: Workspace, id: string): string {
  assert.ok(id.startsWith(ws.id('')), `${id} is not a platform of this workspace`);
  return id.slice(ws.id('').length);
}

function platformOf(ws: Workspace, plan: PlanJson, tag: string): PlanJson['platforms'][number] {
  const platform = plan.platforms.find((p) => p.id === ws.id(tag));
  assert.ok(platform, `the plan has no ${tag}`);
  return platform;
}

function record(records: Map<string, PlatformJson>, tag: string): PlatformJson {
  const found = records.get(tag);
  assert.ok(found, `image-info has no record of ${tag}`);
  return found;
}

describe('imagewright build, end to end on examples/prereqs', { timeout: 15 * 60_000 }, () => {
  let seed: Workspace;
  let first: CliResult;
  let seedRecords: Map<string, PlatformJson>;

  before(async () => {
    seed = await Workspace.create('e2e');
    first = await seed.cli('build', '--push', '--image-info', IMAGE_INFO);
    succeeded(first, 'the first build');
    seedRecords = await seed.records();
  });

  after(async () => {
    await seed?.dispose();
  });

  /** Runs `test` on a fresh copy of the state after the first build. */
  async function onFork(label: string, test: (ws: Workspace) => Promise<void>): Promise<void> {
    const ws = await seed.fork(label);
    try {
      await test(ws);
    } finally {
      await ws.dispose();
    }
  }

  /** `build --push --image-info`, then the checks every run must pass: valid image-info, no lock left. */
  async function buildAndPush(ws: Workspace, ...args: string[]): Promise<Map<string, PlatformJson>> {
    succeeded(await ws.cli('build', '--push', '--image-info', IMAGE_INFO, ...args), 'build');
    ws.assertNoLock();
    return ws.records();
  }

  it('the first build builds every platform once and records the digest the registry holds, the build key and the images read', async () => {
    const registry = loadEngineEnv().registry;
    assert.deepEqual(sorted(await seed.builtTags()), sorted(ALL_TAGS));
    seed.assertNoLock();
    assert.deepEqual(sorted(seedRecords.keys()), sorted(ALL_TAGS));
    for (const tag of ALL_TAGS) {
      const r = record(seedRecords, tag);
      const inRegistry = await registryDigest(seed.ref(tag));
      assert.ok(inRegistry.startsWith('sha256:'), `${tag} is not in the registry`);
      // ImageBuilder's form: the manifest's registry and repo name, without the --repo-prefix the run staged under.
      assert.equal(r.digest, `${registry}/prereqs@${inRegistry}`, `${tag}: recorded digest`);
      assert.match(r.buildKey ?? '', /^sha256:[0-9a-f]{64}$/, `${tag}: build key`);
      assert.ok((r.fromImages ?? []).length > 0, `${tag}: no fromImages`);
    }
    // The second tag of the toolchain image names the same image.
    assert.equal(await registryDigest(seed.ref('toolchain-1.0-amd64')), await registryDigest(seed.ref('toolchain-amd64')));
    assert.deepEqual(sorted(record(seedRecords, 'toolchain-amd64').simpleTags), ['toolchain-1.0-amd64', 'toolchain-amd64']);

    const read = (tag: string, instruction: string, ref: string) => {
      const found = record(seedRecords, tag).fromImages?.find((f) => f.instruction === instruction && f.ref === ref);
      assert.ok(found, `${tag} does not record its ${instruction} of ${ref}`);
      return found;
    };
    const busybox = seed.baseRef('base/busybox:stable');
    assert.equal(read('builder-amd64', 'FROM', busybox).digest, await registryDigest(busybox));
    const toolchain = seed.baseRef('ext/toolchain:1');
    assert.equal(read('toolchain-amd64', 'COPY', toolchain).digest, await registryDigest(toolchain));
    const assets = seed.baseRef('ext/assets:1');
    assert.equal(read('assets-amd64', 'MOUNT', assets).digest, await registryDigest(assets));
    // Internal reads carry the upstream's build key and the digest it was built from, under the
    // manifest's name for the image (the repo prefix says where it is, not what it is).
    const builder = record(seedRecords, 'builder-amd64');
    for (const tag of ['llvm-amd64', ...CROSS]) {
      const upstream = read(tag, 'FROM', seed.publicRef('builder-amd64'));
      assert.equal(upstream.internal, true);
      assert.equal(upstream.buildKey, builder.buildKey, `${tag}: builder's build key`);
      assert.equal(upstream.digest, builder.digest.slice(builder.digest.indexOf('@') + 1), `${tag}: builder's digest`);
    }
    const llvm = record(seedRecords, 'llvm-amd64');
    for (const tag of CROSS) assert.equal(read(tag, 'FROM', seed.publicRef('llvm-amd64')).buildKey, llvm.buildKey);
  });

  it('a second run builds nothing and never invokes docker build', async () => {
    await onFork('again', async (ws) => {
      const records = await buildAndPush(ws);
      assert.deepEqual(await ws.builtTags(), []);
      assert.ok((await ws.calls()).every((c) => c.args[0] !== 'push'), 'a second run pushed');
      for (const tag of ALL_TAGS) assert.equal(record(records, tag).digest, record(seedRecords, tag).digest, tag);
    });
  });

  it('planning from the registry labels without image-info decides as planning with image-info', async () => {
    await onFork('labels', async (ws) => {
      await ws.write('src/builder/amd64/rootfs/VERSION', 'sysroot labels-test\n');
      await ws.write('src/docs/amd64/pages/index.txt', 'docs labels-test\n');
      const summary = (plan: PlanJson) =>
        plan.platforms.map((p) => ({ id: p.id, decision: p.decision, reasons: sorted(new Set(p.reasons.map((r) => r.kind))) }));
      const withInfo = summary(await ws.plan('--image-info', IMAGE_INFO));
      const fromLabels = summary(await ws.plan());
      assert.ok(withInfo.some((p) => p.decision === 'build') && withInfo.some((p) => p.decision === 'reuse'));
      assert.deepEqual(fromLabels, withInfo);
    });
  });

  it('a changed builder rebuilds exactly the builder, llvm and the cross images, and they carry the new content', async () => {
    await onFork('seed', async (ws) => {
      await ws.write('src/builder/amd64/rootfs/VERSION', 'sysroot e2e-2\n');
      const plan = await ws.plan('--image-info', IMAGE_INFO);
      assert.deepEqual(planned(ws, plan), sorted(['builder-amd64', 'llvm-amd64', ...CROSS]));
      const changed = platformOf(ws, plan, 'builder-amd64').reasons.find((r) => r.kind === 'context-changed');
      assert.deepEqual(changed?.modified, ['rootfs/VERSION']);
      for (const tag of ['llvm-amd64', ...CROSS]) {
        const upstreams = platformOf(ws, plan, tag).reasons.filter((r) => r.kind === 'upstream-rebuilt').map((r) => r.upstream);
        assert.ok(upstreams.includes(ws.id('builder-amd64')), `${tag} does not name the builder: ${upstreams.join(', ')}`);
      }

      const records = await buildAndPush(ws);
      assert.deepEqual(sorted(await ws.builtTags()), sorted(['builder-amd64', 'llvm-amd64', ...CROSS]));
      for (const tag of ALL_TAGS) {
        const same = record(records, tag).digest === record(seedRecords, tag).digest;
        assert.equal(same, !planned(ws, plan).includes(tag), `${tag}: digest ${same ? 'unchanged' : 'changed'}`);
      }
      assert.match(await runImage(ws.staged(record(records, 'cross-arm64').digest)), /crossrootfs arm64: sysroot e2e-2, arch=arm64/);
      assert.match(await runImage(ws.staged(record(records, 'llvm-amd64').digest)), /built against sysroot e2e-2/);
    });
  });

  for (const upstream of [
    { image: 'ext/toolchain:1', instruction: 'COPY', rebuilds: 'toolchain-amd64', shows: /toolchain: toolchain 1\.0\.2/ },
    { image: 'ext/assets:1', instruction: 'MOUNT', rebuilds: 'assets-amd64', shows: /hello from assets variant 2/ },
  ]) {
    it(`a new ${upstream.image} under the same tag rebuilds exactly ${upstream.rebuilds}, which reads it (${upstream.instruction})`, async () => {
      await onFork(upstream.rebuilds, async (ws) => {
        const ref = ws.baseRef(upstream.image);
        const oldDigest = await registryDigest(ref);
        await updateBaseImage(upstream.image.replace(/:.*/, ''), 2, ws.basePrefix);
        const newDigest = await registryDigest(ref);
        assert.notEqual(newDigest, oldDigest, 'the upstream update pushed nothing new');

        const plan = await ws.plan('--image-info', IMAGE_INFO);
        assert.deepEqual(planned(ws, plan), [upstream.rebuilds]);
        const reasons = platformOf(ws, plan, upstream.rebuilds).reasons;
        assert.deepEqual(
          reasons.map((r) => [r.kind, r.ref, r.oldDigest, r.newDigest]),
          [['from-image-changed', ref, oldDigest, newDigest]],
        );

        const records = await buildAndPush(ws);
        assert.deepEqual(await ws.builtTags(), [upstream.rebuilds]);
        const read = record(records, upstream.rebuilds).fromImages?.find((f) => f.ref === ref);
        assert.equal(read?.instruction, upstream.instruction);
        assert.equal(read?.digest, newDigest);
        assert.match(await runImage(ws.staged(record(records, upstream.rebuilds).digest)), upstream.shows);
      });
    });
  }

  it('an edit to a file the docs .dockerignore excludes rebuilds nothing', async () => {
    await onFork('ignored', async (ws) => {
      await ws.edit('src/docs/amd64/notes/todo.txt', (t) => `${t}another note\n`);
      await ws.edit('src/docs/amd64/README.md', (t) => `${t}\nMore words.\n`);
      assert.deepEqual(planned(ws, await ws.plan('--image-info', IMAGE_INFO)), []);
      await buildAndPush(ws);
      assert.deepEqual(await ws.builtTags(), []);
    });
  });

  it('an edit to a docs context file rebuilds exactly docs, naming the file', async () => {
    await onFork('context', async (ws) => {
      await ws.write('src/docs/amd64/pages/index.txt', 'the index, edited by the e2e test\n');
      const plan = await ws.plan('--image-info', IMAGE_INFO);
      assert.deepEqual(planned(ws, plan), ['docs-amd64']);
      const reasons = platformOf(ws, plan, 'docs-amd64').reasons;
      assert.deepEqual(
        reasons.map((r) => [r.kind, r.modified]),
        [['context-changed', ['pages/index.txt']]],
      );
      const run = await ws.cli('build', '--push', '--image-info', IMAGE_INFO, '--verbose');
      succeeded(run, 'build --verbose');
      // --verbose says how many registry requests the run made and where its time went.
      assert.match(run.stderr, /^registry requests: \d+$/m);
      const timings = /^timings: (.*)$/m.exec(run.stderr)?.[1] ?? '';
      for (const phase of ['start-up', 'plan', 'engine detection', 'docker build', 'docker push', 'registry reads', 'image-info writes', 'total']) {
        assert.match(timings, new RegExp(`(^|, )${phase} \\d+ ms(,|$)`), `no ${phase} in the timings: ${timings}`);
      }
      const records = await ws.records();
      assert.deepEqual(await ws.builtTags(), ['docs-amd64']);
      assert.match(await runImage(ws.staged(record(records, 'docs-amd64').digest)), /the index, edited by the e2e test/);
    });
  });

  it("imagewright's own files inside a context (image-info, its lock, .imagewright/) neither change a key nor reach the image", async () => {
    await onFork('own-files', async (ws) => {
      // The docs image copies its whole context (`COPY . /srv/docs/`): image-info kept there would be context.
      const inside = 'src/docs/amd64/image-info.json';
      await mkdir(join(ws.dir, 'src/docs/amd64/.imagewright/logs'), { recursive: true });
      await ws.write(inside, await readFile(join(ws.dir, IMAGE_INFO), 'utf8'));
      await ws.write('src/docs/amd64/.imagewright/logs/earlier.log', 'a log\n');
      await ws.write(`${inside}.lock.takeover-1`, 'left over\n');
      assert.deepEqual(planned(ws, await ws.plan('--image-info', inside)), []);
      await ws.write('src/docs/amd64/pages/index.txt', 'the index, edited beside own files\n');
      const logDir = 'src/docs/amd64/.imagewright/logs';
      succeeded(await ws.cli('build', '--push', '--image-info', inside, '--log-dir', logDir), 'build');
      assert.deepEqual(await ws.builtTags(), ['docs-amd64']);
      const info = JSON.parse(await readFile(join(ws.dir, inside), 'utf8')) as Parameters<typeof recordsOf>[0];
      const listing = await runImage(ws.staged(record(recordsOf(info), 'docs-amd64').digest));
      assert.match(listing, /the index, edited beside own files/);
      assert.doesNotMatch(listing, /image-info\.json|\.imagewright|takeover/, 'an own file reached the image');
      // The build rewrote image-info and wrote a log inside the context: still nothing to build.
      await ws.clearLog();
      succeeded(await ws.cli('build', '--push', '--image-info', inside, '--log-dir', logDir), 'second build');
      assert.deepEqual(await ws.builtTags(), []);
    });
  });

  it('a changed build-arg variable rebuilds exactly the platforms whose build args use it', async () => {
    await onFork('buildarg', async (ws) => {
      const plan = await ws.plan('--image-info', IMAGE_INFO, '--var', 'ToolchainVersion=2.0');
      assert.deepEqual(planned(ws, plan), ['toolchain-amd64']);
      const reasons = platformOf(ws, plan, 'toolchain-amd64').reasons.filter((r) => r.kind === 'build-args-changed');
      assert.deepEqual(reasons.map((r) => r.args), [['TOOLCHAIN_VERSION']]);
      for (const p of plan.platforms) {
        if (p.decision === 'reuse') assert.deepEqual(p.reasons, [], `${p.id} has reasons but is reused`);
      }
    });
  });

  it('a new tag on an unchanged image is published without a rebuild', async () => {
    await onFork('newtag', async (ws) => {
      await ws.edit('manifest.json', (t) => t.replace('"tools-amd64": {}', '"tools-amd64": {},\n                "tools-extra-amd64": {}'));
      const plan = await ws.plan('--image-info', IMAGE_INFO);
      assert.deepEqual(planned(ws, plan), []);
      assert.deepEqual(platformOf(ws, plan, 'tools-amd64').newTags, ['tools-extra-amd64']);

      const records = await buildAndPush(ws);
      assert.deepEqual(await ws.builtTags(), []);
      const digest = await registryDigest(ws.ref('tools-extra-amd64'));
      assert.equal(digest, await registryDigest(ws.ref('tools-amd64')));
      const tools = record(records, 'tools-amd64');
      assert.equal(tools.digest, record(seedRecords, 'tools-amd64').digest);
      assert.ok(tools.digest.endsWith(`@${digest}`), 'the new tag names another image');
      assert.deepEqual(sorted(tools.simpleTags), ['tools-amd64', 'tools-extra-amd64']);
    });
  });
});
