import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorExitCode } from '../../src/cli/output.js';
import { InputError, LabelError, OptionError } from '../../src/errors.js';
import { buildTags, imageLabels, syntaxOverride } from '../../src/execute/compose.js';
import type { DockerfilePin } from '../../src/execute/pin.js';
import { parseImageInfo } from '../../src/imageinfo/index.js';
import { LABEL_BUILD_KEY, LABEL_FROM_IMAGES, LABEL_INPUTS, LABEL_PLATFORMS, readRecordLabels, recordLabels } from '../../src/imageinfo/labels.js';
import { loadManifest } from '../../src/manifest/index.js';
import { planOf, sha, simpleManifest, World, fromOnly, REGISTRY } from '../helpers/plan-fixtures.js';

const IMAGE = `${REGISTRY}/r:app`;

function plannedApp() {
  const manifest = simpleManifest('r', [
    { tag: 'base', dockerfile: 'base' },
    { tag: 'app', dockerfile: 'app', buildArgs: { X: '1' } },
  ]);
  const world = World.of(manifest, { 'r:base': fromOnly('debian:12'), 'r:app': fromOnly(`${REGISTRY}/r:base`) });
  return { manifest, app: planOf(world.plan(undefined), 'r:app') };
}

describe('image labels: one module writes and reads the record', () => {
  it('reads back exactly the record it wrote, but the per-file list of the context, which stays in image-info', () => {
    const { app } = plannedApp();
    const record = { buildKey: app.buildKey, fromImages: app.fromImages, inputs: app.inputs };
    const { contextFiles, ...inputs } = app.inputs;
    assert.ok(contextFiles && Object.keys(contextFiles).length > 0);
    assert.deepEqual(readRecordLabels(recordLabels(record), IMAGE), { ...record, inputs });
  });

  it('a context of any size makes a label of the same size; a record from labels explains a context change without files', () => {
    const manifest = simpleManifest('r', [{ tag: 'app', dockerfile: 'app' }]);
    const world = World.of(manifest, { 'r:app': fromOnly('debian:12') });
    world.contexts.set('r:app', Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`files/f${i}`, sha(String(i))])));
    const first = world.baseline();
    const app = planOf(world.plan(first), 'r:app');
    const labels = recordLabels({ buildKey: app.buildKey, fromImages: app.fromImages, inputs: app.inputs });
    assert.ok((labels[LABEL_INPUTS] ?? '').length < 2048, 'no per-file list in the label');
    // The previous run read back from labels: no file list to compare with.
    const fromLabels = structuredClone(first);
    for (const platform of fromLabels.repos.flatMap((r) => r.images.flatMap((i) => i.platforms))) {
      if (platform.inputs) platform.inputs = readRecordLabels(labels, IMAGE)?.inputs;
    }
    world.setContextFile('r:app', 'files/f7', sha('changed'));
    assert.deepEqual(planOf(world.plan(fromLabels), 'r:app').reasons.map((r) => r.detail), [
      'build context changed (the previous record, read from image labels, lists no files)',
    ]);
    // image-info keeps the list: the file is named.
    assert.deepEqual(planOf(world.plan(first), 'r:app').reasons.map((r) => r.detail), ['build context changed: modified files/f7']);
  });

  it('an image without a build key label has no record; missing optional labels read as none', () => {
    assert.equal(readRecordLabels({ 'org.opencontainers.image.created': 'x' }, IMAGE), undefined);
    assert.deepEqual(readRecordLabels({ [LABEL_BUILD_KEY]: sha('k') }, IMAGE), { buildKey: sha('k'), fromImages: [] });
  });

  it('checks labels as the image-info file is checked, naming image, label and JSON path', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ [LABEL_FROM_IMAGES]: '{not json' }, /^127\.0\.0\.1:5000\/r:app: label dev\.imagewright\.from-images: is not valid JSON$/],
      [{ [LABEL_FROM_IMAGES]: '{}' }, /label dev\.imagewright\.from-images: expected a list, found an object/],
      [{ [LABEL_FROM_IMAGES]: '[{"stage":"0","instruction":"EVAL","ref":"a","digest":"","internal":false}]' }, /from-images: \[0\]\.instruction: unknown instruction "EVAL"/],
      [{ [LABEL_INPUTS]: '{"dockerfile":"d","context":"c","platform":"linux/amd64","buildArgs":{"X":1}}' }, /label dev\.imagewright\.inputs: buildArgs\.X: expected a string/],
      [{ [LABEL_INPUTS]: '{"dockerfile":"d","context":"c","platform":"linux/amd64","keyVersion":"2"}' }, /inputs: keyVersion: keyVersion must be a whole number/],
    ];
    for (const [labels, message] of cases) {
      assert.throws(
        () => readRecordLabels({ [LABEL_BUILD_KEY]: sha('k'), ...labels }, IMAGE),
        (err: unknown) => err instanceof LabelError && message.test(err.message) && errorExitCode(err) === 2,
        JSON.stringify(labels),
      );
    }
    // The same shape problem in a file is reported the same way (with the file's path and line).
    const file = JSON.stringify({
      schemaVersion: '2.0',
      repos: [{ repo: 'r', images: [{ platforms: [{ dockerfile: 'd', simpleTags: [], digest: '', osType: 'Linux', osVersion: '', architecture: 'amd64', inputs: { dockerfile: 'd', context: 'c', platform: 'p', buildArgs: { X: 1 } } }] }] }],
    });
    assert.throws(() => parseImageInfo('info.json', file), /buildArgs\.X.*expected a string/);
  });
});

describe('build requests: pure decisions of the executor', () => {
  it('tags: own tags; shared tags when not pushing; a key-derived tag when pushing an image with only shared tags', () => {
    const { manifest, app } = plannedApp();
    assert.deepEqual(buildTags(manifest, app, true), [`${REGISTRY}/r:app`]);
    const sharedOnly = { ...app, tags: [], platform: { ...app.platform, sharedTags: ['latest'] } };
    assert.deepEqual(buildTags(manifest, sharedOnly, false), [`${REGISTRY}/r:latest`]);
    assert.deepEqual(buildTags(manifest, sharedOnly, true), [`${REGISTRY}/r:imagewright-${app.buildKey.slice(7, 23)}`]);
  });

  it('labels: the record, base annotations, user labels that never replace the record', () => {
    const { app } = plannedApp();
    const labels = imageLabels({
      plan: app,
      fromImages: app.fromImages,
      created: '2026-01-01T00:00:00.000Z',
      base: { record: `${REGISTRY}/r@${sha('b')}`, name: `${REGISTRY}/r:base`, digest: sha('b') },
      extra: { 'org.opencontainers.image.created': 'reproducible', [LABEL_BUILD_KEY]: 'forged', revision: 'abc' },
    });
    assert.equal(labels['org.opencontainers.image.created'], 'reproducible');
    assert.equal(labels.revision, 'abc');
    assert.equal(labels['org.opencontainers.image.base.name'], `${REGISTRY}/r:base`);
    const identity = { dockerfile: app.platform.dockerfile, simpleTags: app.tags, osType: 'Linux', osVersion: app.platform.osVersion, architecture: 'amd64' };
    const { contextFiles: _inImageInfo, ...inputs } = app.inputs;
    assert.deepEqual(readRecordLabels(labels, IMAGE), { buildKey: app.buildKey, fromImages: app.fromImages, inputs, platforms: [identity] });
  });

  it('labels: an image built for several platforms (identical inputs) names each one\'s identity; a bad identity is a LabelError', () => {
    const { app } = plannedApp();
    const twin = { ...app, tags: ['twin'], platform: { ...app.platform, tags: ['twin'], productVersion: '2.0' } };
    const labels = imageLabels({ plan: app, group: [app, twin], fromImages: app.fromImages, created: 'now', base: undefined, extra: undefined });
    const read = readRecordLabels(labels, IMAGE);
    assert.deepEqual(read?.platforms?.map((p) => [p.simpleTags, p.productVersion]), [[app.tags, undefined], [['twin'], '2.0']]);
    const bad = { ...labels, [LABEL_PLATFORMS]: JSON.stringify([{ dockerfile: 1 }]) };
    assert.throws(() => readRecordLabels(bad, IMAGE), (err: unknown) => err instanceof LabelError && /dev\.imagewright\.platforms: \[0\]\.dockerfile/.test(err.message));
  });

  it('syntax: a BUILDKIT_SYNTAX build arg takes the pinned frontend instead of the directive', () => {
    const syntax: DockerfilePin = { instruction: 'SYNTAX', line: 1, ref: 'docker/dockerfile:1', pinned: `docker/dockerfile:1@${sha('f')}` };
    const from: DockerfilePin = { instruction: 'FROM', line: 2, ref: 'debian:12', pinned: `debian:12@${sha('d')}` };
    assert.deepEqual(syntaxOverride([syntax, from], { A: '1' }), { pins: [syntax, from], buildArgs: { A: '1' } });
    assert.deepEqual(syntaxOverride([syntax, from], { BUILDKIT_SYNTAX: 'docker/dockerfile:1' }), {
      pins: [from],
      buildArgs: { BUILDKIT_SYNTAX: syntax.pinned },
    });
  });
});

describe('errors name what is at fault', () => {
  it('a bad option is an OptionError naming the option, not a file; exit code 2', async () => {
    await assert.rejects(
      loadManifest('examples/prereqs/manifest.json', { vars: {}, registryOverride: 'not a host' }),
      (err: unknown) => err instanceof OptionError && err.option === '--registry-override' && !(err instanceof InputError) && errorExitCode(err) === 2,
    );
  });
});
