import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OptionError } from '../../src/errors.js';
import { selectPlatforms } from '../../src/plan/index.js';
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
    const selected = selectPlatforms(w.plan(undefined), w.graph(), { paths: ['src/ba*', 'src/tool/Dockerfile'] });
    assert.deepEqual(selected.platforms.map((p) => p.id), ['r:base', 'r:tool']);
  });

  it('refuses to leave out an upstream that must build, even on a first build (reason new)', () => {
    const w = world();
    assert.throws(() => selectPlatforms(w.plan(undefined), w.graph(), { paths: ['src/app'] }), (err: unknown) => {
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
    const selected = selectPlatforms(w.plan(built), w.graph(), { paths: ['src/app'] });
    assert.deepEqual(selected.platforms.map((p) => [p.id, p.decision]), [['r:app', 'build']]);
  });

  it('says so when a glob matches nothing', () => {
    const w = world();
    assert.throws(() => selectPlatforms(w.plan(undefined), w.graph(), { paths: ['src/nope'] }), /--path: src\/nope matches no platform's Dockerfile/);
  });
});
