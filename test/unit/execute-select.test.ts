import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionError } from '../../src/errors.js';
import { selectPaths } from '../../src/shell/execute.js';
import { fromOnly, REGISTRY, simpleManifest, World } from '../helpers/plan-fixtures.js';

// base ← app (FROM), plus an unrelated tool.
const manifest = () =>
  simpleManifest('r', [
    { tag: 'base', dockerfile: 'src/base' },
    { tag: 'app', dockerfile: 'src/app' },
    { tag: 'tool', dockerfile: 'src/tool' },
  ]);
const world = () =>
  World.of(manifest(), { 'r:base': fromOnly('debian'), 'r:app': fromOnly(`${REGISTRY}/r:base`), 'r:tool': fromOnly('debian') });

describe('build --path', () => {
  it('keeps the platforms whose Dockerfile or folder matches a glob', () => {
    const w = world();
    const selected = selectPaths(w.plan(undefined), w.graph(), ['src/ba*', 'src/tool/Dockerfile']);
    assert.deepEqual(selected.platforms.map((p) => p.id), ['r:base', 'r:tool']);
  });

  it('refuses to leave out an upstream that must build, even on a first build (reason new)', () => {
    const w = world();
    assert.throws(() => selectPaths(w.plan(undefined), w.graph(), ['src/app']), (err: unknown) => {
      assert.ok(err instanceof OptionError);
      assert.equal(err.option, '--path');
      assert.match(err.message, /^--path: r:app needs r:base built first, and --path leaves it out; add src\/base\/Dockerfile$/);
      return true;
    });
  });

  it('allows leaving out an upstream that is reused', () => {
    const w = world();
    const built = w.baseline();
    w.changeDockerfile('r:app');
    const selected = selectPaths(w.plan(built), w.graph(), ['src/app']);
    assert.deepEqual(selected.platforms.map((p) => [p.id, p.decision]), [['r:app', 'build']]);
  });

  it('says so when a glob matches nothing', () => {
    const w = world();
    assert.throws(() => selectPaths(w.plan(undefined), w.graph(), ['src/nope']), /--path: src\/nope matches no platform's Dockerfile/);
  });
});
