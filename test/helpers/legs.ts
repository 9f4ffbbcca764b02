/**
 * The example repository changed so that the CI scale-out has something to show: a second wave (a
 * cross-architecture read) and an image whose shared tags span two legs.
 */
import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { examplePrereqsDir } from './engine.js';

interface RawManifest {
  repos: Array<{ images: Array<{ sharedTags?: Record<string, object>; platforms: Array<Record<string, unknown>> }> }>;
}

/** The example, changed so that it needs two waves and a cross-leg index. */
export async function copyExample(root: string, name: string): Promise<string> {
  const dir = join(root, name);
  await cp(examplePrereqsDir, dir, { recursive: true });
  const manifestFile = join(dir, 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as RawManifest;
  const images = manifest.repos[0]?.images ?? [];
  const [docs, tools] = [images[4], images[5]];
  assert.ok(docs?.platforms[0] && tools?.platforms[0]);
  // docs and tools become one image under the shared tag `utils`; they still build in separate legs.
  tools.platforms[0].osVersion = 'busybox-tools';
  images.splice(4, 2, { sharedTags: { utils: {} }, platforms: [docs.platforms[0], tools.platforms[0]] });
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
  // linux/amd64/v2 is another group: this image, built from builder and llvm, goes into wave 1.
  const crossFile = join(dir, 'src', 'cross', 'manifest.json');
  const cross = JSON.parse(await readFile(crossFile, 'utf8')) as RawManifest;
  const arm64 = cross.repos[0]?.images[0]?.platforms[0];
  assert.ok(arm64);
  arm64.variant = 'v2';
  await writeFile(crossFile, JSON.stringify(cross, null, 2));
  return dir;
}

