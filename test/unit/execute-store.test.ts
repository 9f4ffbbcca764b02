import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { platformRecord } from '../../src/execute/record.js';
import { ImageInfoStore } from '../../src/execute/store.js';
import { ImageInfoDocument, readImageInfo, writeImageInfoText } from '../../src/imageinfo/index.js';
import type { PlatformOutcome } from '../../src/execute/types.js';
import type { PlatformPlan } from '../../src/plan/types.js';
import { fromOnly, simpleManifest, World } from '../helpers/plan-fixtures.js';

const dirs: string[] = [];
after(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

function outcome(plan: PlatformPlan, digest: string): PlatformOutcome {
  return { id: plan.id, action: 'built', digest, tags: plan.tags, fromImages: plan.fromImages, durationMs: 1, notes: [] };
}

describe('ImageInfoStore', () => {
  const world = World.of(simpleManifest('r', [{ tag: 'a', dockerfile: 'a' }, { tag: 'b', dockerfile: 'b' }]), {
    'r:a': fromOnly('debian'),
    'r:b': fromOnly('debian'),
  });
  const [a, b] = world.plan(undefined).platforms as [PlatformPlan, PlatformPlan];

  it('writes after each platform, and not at all when a record is what the file already holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iw-store-'));
    dirs.push(dir);
    const file = join(dir, 'image-info.json');
    const first = await ImageInfoStore.open(file, world.manifest);
    await first.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    assert.match(await readFile(file, 'utf8'), /sha256:aaa/);
    await first.recordPlatform(b, outcome(b, '127.0.0.1:5000/r@sha256:bbb'));
    const written = await stat(file);

    const second = await ImageInfoStore.open(file, world.manifest);
    await second.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    await second.recordPlatform(b, outcome(b, '127.0.0.1:5000/r@sha256:bbb'));
    const unchanged = await stat(file);
    assert.equal(unchanged.ino, written.ino, 'the file was replaced although nothing changed');
    assert.equal(unchanged.mtimeMs, written.mtimeMs);

    await second.recordPlatform(b, outcome(b, '127.0.0.1:5000/r@sha256:ccc'));
    assert.notEqual((await stat(file)).ino, written.ino);
    const text = await readFile(file, 'utf8');
    assert.match(text, /sha256:ccc/);
    assert.doesNotMatch(text, /sha256:bbb/);
  });

  it('keeps the records of reused platforms until flush, so a no-change run writes the file once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iw-store-'));
    dirs.push(dir);
    const file = join(dir, 'image-info.json');
    const first = await ImageInfoStore.open(file, world.manifest);
    await first.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    await first.recordPlatform(b, outcome(b, '127.0.0.1:5000/r@sha256:bbb'));
    const written = await stat(file);

    const second = await ImageInfoStore.open(file, world.manifest);
    const reused = (plan: PlatformPlan, digest: string): PlatformOutcome => ({ ...outcome(plan, digest), action: 'reused' });
    await second.recordPlatform(a, reused(a, '127.0.0.1:5000/r@sha256:aaa'));
    await second.recordPlatform(b, reused(b, '127.0.0.1:5000/r@sha256:bbb'));
    assert.equal((await stat(file)).ino, written.ino, 'a reused platform was written before flush');
    await second.flush();
    const flushed = await stat(file);
    assert.notEqual(flushed.ino, written.ino, 'flush did not write the reused records (isUnchanged)');
    assert.match(await readFile(file, 'utf8'), /"isUnchanged": true/);

    await second.flush();
    assert.equal((await stat(file)).ino, flushed.ino, 'a second flush with nothing new wrote again');
  });

  it('writes the first record when it starts from records that did not come from the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iw-store-'));
    dirs.push(dir);
    const file = join(dir, 'leg.json');
    const store = await ImageInfoStore.open(file, world.manifest, { schemaVersion: '2.0', repos: [] });
    await store.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    assert.match(await readFile(file, 'utf8'), /sha256:aaa/);
  });

  it('started from the records the plan read from the file (previousAsInFile), writes nothing for a record the file already holds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iw-store-'));
    dirs.push(dir);
    const file = join(dir, 'image-info.json');
    const first = await ImageInfoStore.open(file, world.manifest);
    await first.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    const written = await stat(file);
    const read = await readImageInfo(file);
    assert.ok(read);
    const asRead = await ImageInfoStore.open(file, world.manifest, read, { previousAsInFile: true });
    await asRead.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    assert.equal((await stat(file)).ino, written.ino, 'the file was replaced although nothing changed');
    // Without the flag, records handed in are not known to be the file's: the first record is written.
    const handedIn = await ImageInfoStore.open(file, world.manifest, read);
    await handedIn.recordPlatform(a, outcome(a, '127.0.0.1:5000/r@sha256:aaa'));
    assert.notEqual((await stat(file)).ino, written.ino);
  });

  it('serializes a no-change run of 10,000 platforms in about the size of the file, not once per platform', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iw-store-'));
    dirs.push(dir);
    const file = join(dir, 'image-info.json');
    const count = 10_000;
    const specs = Array.from({ length: count }, (_, i) => ({ tag: `t${i}`, dockerfile: `src/p${i}` }));
    const big = World.of(simpleManifest('r', specs), Object.fromEntries(specs.map((s) => [`r:${s.tag}`, fromOnly('debian')])));
    const image = (plan: PlatformPlan) => big.manifest.repos[0]?.images[plan.platform.imageIndex] ?? { sharedTags: [] };
    // The state after a first build of everything.
    const built = new ImageInfoDocument({ schemaVersion: '2.0', repos: [] });
    for (const p of big.plan(undefined).platforms) built.upsertPlatform('r', image(p), platformRecord(p, outcome(p, `127.0.0.1:5000/r@${p.buildKey}`)));
    await writeImageInfoText(file, built.serialize());

    const plan = big.plan(await readImageInfo(file));
    assert.ok(plan.platforms.every((p) => p.decision === 'reuse'));
    const run = async (): Promise<ImageInfoStore> => {
      // A clock that stands still: on a loaded machine the loop may take longer than the batch window.
      const store = await ImageInfoStore.open(file, big.manifest, undefined, { now: () => 0 });
      for (const p of plan.platforms) await store.recordPlatform(p, { ...outcome(p, p.previous?.digest ?? ''), action: 'reused' });
      await store.flush();
      return store;
    };
    const first = await run();
    const size = (await stat(file)).size;
    // Each record's text once, the file once: about 2x. Rewriting the file per platform would be about 10,000x.
    assert.ok(first.serializedChars <= 50 * size, `serialized ${first.serializedChars} characters for a file of ${size} bytes`);
    assert.equal(first.writtenChars, size, 'the file was written more than once');
    assert.match(await readFile(file, 'utf8'), /"isUnchanged": true/);
    const again = await run();
    assert.equal(again.writtenChars, 0, 'a second no-change run wrote the file');
  });
});
