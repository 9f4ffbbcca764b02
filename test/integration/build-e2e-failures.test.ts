/**
 * `imagewright build` end to end when things go wrong: a run killed in the middle of a build, and a
 * Dockerfile that fails. Nothing built may be lost, nothing recorded may be built twice, and a
 * failure stops exactly what depends on it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CliResult } from '../helpers/cli.js';
import { uniqueRepoPrefix } from '../helpers/engine.js';
import { ALL_TAGS, IMAGE_INFO, recordsOf, registryDigest, waitFor, Workspace } from '../helpers/e2e.js';

const CROSS = ['cross-arm64', 'cross-arm', 'cross-riscv64'];

function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

function failed(result: CliResult, what: string): void {
  assert.notEqual(result.code, 0, `${what} succeeded:\n${result.stderr}`);
  assert.notEqual(result.code, null, `${what} was killed:\n${result.stderr}`);
}

describe('imagewright build, end to end, when a run is killed or a build fails', { timeout: 15 * 60_000 }, () => {
  let basePrefix: string;
  const workspaces: Workspace[] = [];

  before(() => {
    basePrefix = uniqueRepoPrefix('e2e-failures-base');
  });

  after(async () => {
    for (const ws of workspaces) await ws.dispose();
  });

  async function workspace(label: string): Promise<Workspace> {
    const ws = await Workspace.create(label, { basePrefix });
    workspaces.push(ws);
    return ws;
  }

  it('a run killed during a build loses nothing and builds nothing twice when run again', async () => {
    const ws = await workspace('killed');
    // docs builds fifth of nine with --jobs 1: four platforms are recorded before it, four come after.
    const slow = 'src/docs/amd64/Dockerfile';
    await ws.edit(slow, (t) => t.replace('COPY . /srv/docs/', 'COPY . /srv/docs/\nRUN sleep 60'));
    const run = await ws.startBuild('--push', '--image-info', IMAGE_INFO, '--jobs', '1');
    // Whatever happens below, the slow build must not outlive the test.
    const killOnExit = (): void => {
      if (!run.ended) run.killGroup();
    };
    process.once('exit', killOnExit);
    const before = ['builder-amd64', 'llvm-amd64', 'toolchain-amd64', 'assets-amd64'];
    const state = await waitFor('image-info to record the platforms before docs, and docs to start', async () => {
      if (run.ended) return 'ended';
      const records = recordsOf(await ws.imageInfo());
      const building = await ws.builtTags();
      return records.size === before.length && building.includes('docs-amd64') ? 'docs building' : undefined;
    });
    assert.equal(state, 'docs building', `the build ended before it could be killed:\n${run.stderr}`);
    run.killGroup();
    await run.exited;
    process.off('exit', killOnExit);
    const recordedAtKill = sorted(recordsOf(await ws.imageInfo()).keys());
    assert.deepEqual(recordedAtKill, sorted(before));
    assert.ok(existsSync(join(ws.dir, `${IMAGE_INFO}.lock`)), 'a killed run cannot remove its lock');
    const digestsAtKill = recordsOf(await ws.imageInfo());

    // The slow step only had to hold the build while it was killed; docs was never recorded, so it builds anyway.
    await ws.edit(slow, (t) => t.replace('\nRUN sleep 60', ''));
    await ws.clearLog();
    const rerun = await ws.cli('build', '--push', '--image-info', IMAGE_INFO, '--jobs', '1');
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /taking over stale lock/);
    assert.deepEqual(sorted(await ws.builtTags()), sorted(ALL_TAGS.filter((t) => !before.includes(t))));
    ws.assertNoLock();
    const records = await ws.records();
    assert.deepEqual(sorted(records.keys()), sorted(ALL_TAGS));
    for (const tag of before) assert.equal(records.get(tag)?.digest, digestsAtKill.get(tag)?.digest, `${tag} changed`);
    for (const tag of ALL_TAGS) {
      assert.ok(records.get(tag)?.digest.endsWith(`@${await registryDigest(ws.ref(tag))}`), `${tag}: recorded digest is not the registry's`);
    }
  });

  it('a failing Dockerfile stops new builds, and with --keep-going builds everything that does not depend on it', async () => {
    const ws = await workspace('failing');
    await ws.edit('src/llvm/amd64/Dockerfile', (t) => `${t}RUN false\n`);

    // Without --keep-going: the builder builds, llvm fails, and nothing starts after it.
    const stopped = await ws.cli('build', '--push', '--image-info', IMAGE_INFO, '--jobs', '1');
    failed(stopped, 'a build with a failing Dockerfile');
    assert.deepEqual(await ws.builtTags(), ['builder-amd64', 'llvm-amd64']);
    assert.match(stopped.stderr, new RegExp(`FAILED  ${ws.id('llvm-amd64')}`));
    assert.match(stopped.stderr, new RegExp(`skipped ${ws.id('tools-amd64')}: not started after ${ws.id('llvm-amd64')} failed`));
    ws.assertNoLock();
    assert.deepEqual(sorted((await ws.records()).keys()), ['builder-amd64']);

    await ws.clearLog();
    const kept = await ws.cli('build', '--push', '--image-info', IMAGE_INFO, '--keep-going');
    failed(kept, 'a --keep-going build with a failing Dockerfile');
    const independent = ['toolchain-amd64', 'assets-amd64', 'docs-amd64', 'tools-amd64'];
    assert.deepEqual(sorted(await ws.builtTags()), sorted(['llvm-amd64', ...independent]));
    for (const tag of CROSS) {
      assert.match(kept.stderr, new RegExp(`skipped ${ws.id(tag)}: ${ws.id('llvm-amd64')} failed`), `${tag} is not reported skipped because of llvm`);
    }
    ws.assertNoLock();
    const records = await ws.records();
    assert.deepEqual(sorted(records.keys()), sorted(['builder-amd64', ...independent]));
    for (const tag of independent) {
      assert.ok(records.get(tag)?.digest.endsWith(`@${await registryDigest(ws.ref(tag))}`), `${tag}: recorded digest is not the registry's`);
    }
  });
});
