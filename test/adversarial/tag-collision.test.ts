/**
 * One writer per tag (issue 13, item 4): two repositories with image-info files of their own push
 * the same tags to the real registry. The second is refused before anything builds, naming its
 * image-info file and the tag, and leaves the first one's tag and its own folder as they were;
 * --take-over-tags moves the tags with a warning, after which the first is refused in turn. A run
 * over its own recorded tags goes on as before. docs/failure-classes.md lists the cases.
 */
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertRefused, fixture, runMeasured, snapshotTree } from '../helpers/adversarial.js';
import { engineProcessEnv, loadEngineEnv, uniqueRepoPrefix } from '../helpers/engine.js';

const BOUND = { seconds: 60, maxRssMb: 400 };

/** The digest a tag of the loopback registry names now (the registry's own answer). */
async function tagDigest(registry: string, repo: string, tag: string): Promise<string | null> {
  const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
  const response = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: accept.join(', ') } });
  return response.headers.get('docker-content-digest');
}

describe('two image-info files pushing the same tags', { timeout: 10 * 60_000 }, () => {
  it('the second run is refused before it builds; --take-over-tags moves the tags with a warning', async () => {
    const { registry } = loadEngineEnv();
    const prefix = `${uniqueRepoPrefix('collide')}/`;
    // One image with a platform tag and a shared tag (so an index is published too), the same in both repositories.
    const manifest = {
      registry,
      repos: [{ name: 'team/app', images: [{ sharedTags: { latest: {} }, platforms: [{ dockerfile: 'app', os: 'linux', osVersion: 'bookworm', tags: { '1': {} } }] }] }],
    };
    const root = await fixture({
      'a/manifest.json': manifest,
      'a/app/Dockerfile': 'FROM scratch\nCOPY . /\n',
      'a/app/which.txt': 'repository a',
      'b/manifest.json': manifest,
      'b/app/Dockerfile': 'FROM scratch\nCOPY . /\n',
      'b/app/which.txt': 'repository b',
    });
    const env = engineProcessEnv();
    const build = (dir: string, ...extra: string[]) =>
      runMeasured(['build', '--push', '--image-info', 'image-info.json', '--repo-prefix', prefix, '--progress', 'plain', ...extra], { cwd: join(root, dir), env, killAfterSeconds: 240 });
    const tag = `${registry}/${prefix}team/app:1`;
    try {
      const first = await build('a');
      assert.equal(first.code, 0, first.stderr);
      // A run over the tags its own image-info records goes on.
      writeFileSync(join(root, 'a', 'app', 'which.txt'), 'repository a, second commit');
      const second = await build('a');
      assert.equal(second.code, 0, second.stderr);
      const ownDigest = await tagDigest(registry, `${prefix}team/app`, '1');

      const before = snapshotTree(root);
      const refused = await build('b');
      assertRefused(refused, {
        code: 2,
        file: 'image-info.json',
        location: new RegExp(`${tag.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `),
        problem: /the tag holds sha256:[0-9a-f]{64} built from app\/Dockerfile, which another run pushed .* and this file does not record.*--take-over-tags/,
        ...BOUND,
      }, root, before);
      assert.equal(await tagDigest(registry, `${prefix}team/app`, '1'), ownDigest, "the first repository's tag did not move");

      const takenOver = await build('b', '--take-over-tags');
      assert.equal(takenOver.code, 0, takenOver.stderr);
      assert.match(takenOver.stderr, new RegExp(`imagewright: warning: --take-over-tags: moving tag\\(s\\) another run pushed.*${prefix}team/app:1 \\(sha256:`));
      assert.notEqual(await tagDigest(registry, `${prefix}team/app`, '1'), ownDigest, 'the tag moved to the second repository');

      writeFileSync(join(root, 'a', 'app', 'which.txt'), 'repository a, third commit');
      const beforeThird = snapshotTree(root);
      const third = await build('a');
      assertRefused(third, { code: 2, file: 'image-info.json', location: /\S+:1: /, problem: /another run pushed/, ...BOUND }, root, beforeThird);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
