/**
 * Inputs of any size (issue 13, item 2). The inputs label once listed every context file, and went on
 * the `docker build` command line: a context of more than ~1,600 files failed with `spawn E2BIG`.
 * Now the label carries no per-file list; image-info keeps it, so a reason still names the changed
 * file. A context of 100,000 files plans within its bound, and builds on the real engine within its own.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { docker, ensureBaseImages, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';

/** `count` files of a few bytes in folders of 1,000 under `dir/files`. */
function writeFiles(dir: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const folder = join(dir, 'files', `d${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `f${i}`), String(i));
  }
}

/** In memory where there is a tmpfs: on a busy disk, removing 100,000 files alone takes half a minute. */
function repository(files: number): string {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'iw-bigctx-'));
  const registry = loadEngineEnv().registry;
  const manifest = {
    registry,
    repos: [{ name: 'app', images: [{ platforms: [{ dockerfile: 'app', os: 'linux', osVersion: 'busybox', tags: { '1': {} } }] }] }],
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  mkdirSync(join(dir, 'app'));
  // The folder is copied whole, so every file is read, hashed and (in image-info) listed.
  writeFileSync(join(dir, 'app', 'Dockerfile'), `FROM ${registry}/base/busybox:stable\nCOPY files /files\nRUN cat /files/d0/f1\n`);
  writeFiles(join(dir, 'app'), files);
  return dir;
}

describe('inputs of any size', { timeout: 10 * 60_000 }, () => {
  const dirs: string[] = [];
  before(() => ensureBaseImages());
  after(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a context of 100,000 files plans within 60 s', async () => {
    const dir = repository(100_000);
    dirs.push(dir);
    const started = Date.now();
    const plan = await runCli(['plan', '--format', 'json', '--image-info', 'image-info.json', '--repo-prefix', `${uniqueRepoPrefix('bigctx')}/`], { cwd: dir });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(plan.code, 0, plan.stderr);
    assert.ok(seconds < 60, `plan took ${seconds}s`);
    // 100,000 files hold 400 MB of a tmpfs: not two such folders at once.
    rmSync(dir, { recursive: true, force: true });
  });

  it('a context of 100,000 files builds within 180 s; its label lists no files, image-info does, and reasons name the file', async () => {
    const dir = repository(100_000);
    dirs.push(dir);
    const engine = loadEngineEnv();
    const env = { DOCKER_HOST: engine.dockerHost, IMAGEWRIGHT_DOCKER: engine.docker, DOCKER_BUILDKIT: '1' };
    const prefix = `${uniqueRepoPrefix('bigctx')}/`;
    const args = ['--image-info', 'image-info.json', '--repo-prefix', prefix];
    const started = Date.now();
    const build = await runCli(['build', ...args], { cwd: dir, env });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(build.code, 0, build.stderr);
    assert.ok(seconds < 180, `build took ${seconds}s`);
    assert.doesNotMatch(build.stderr, /E2BIG/);

    const inspect = await docker(['image', 'inspect', '--format', '{{json .Config.Labels}}', `${engine.registry}/${prefix}app:1`]);
    const labels = JSON.parse(inspect.stdout) as Record<string, string>;
    const inputs = JSON.parse(labels['dev.imagewright.inputs'] ?? '{}') as Record<string, unknown>;
    assert.ok(inputs.context, 'the label carries the context digest');
    assert.equal(inputs.contextFiles, undefined, 'the label lists no files');
    assert.ok((labels['dev.imagewright.inputs'] ?? '').length < 4096);
    const info = readFileSync(join(dir, 'image-info.json'), 'utf8');
    assert.match(info, /"files\/d99\/f99999"/, 'image-info keeps the per-file list');

    writeFileSync(join(dir, 'app', 'files', 'd3', 'f3210'), 'changed');
    const plan = await runCli(['plan', '--format', 'json', ...args], { cwd: dir });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /build context changed: modified files\/d3\/f3210/);
  });
});
