/** Warnings reach the user once, on stderr, without failing the command (graph needs no registry). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'iw-warnings-'));
/**
 * An empty registry, for the existence checks of the records that match. What is under test here is
 * the warning, not the registry.
 */
let emptyRegistry: Server;
let registry = '';
before(async () => {
  emptyRegistry = createServer((req, res) => {
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.method === 'HEAD' ? undefined : '{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
  });
  await new Promise<void>((resolve) => emptyRegistry.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(emptyRegistry.address() as AddressInfo).port}`;
});
after(() => {
  emptyRegistry.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('warnings', () => {
  it('an ADD of a URL is named once, with file and line, even when two platforms share the Dockerfile', async () => {
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'src', 'Dockerfile'), 'FROM scratch\nADD https://example.com/tool.tgz /opt/\n');
    const platform = (architecture: string, tag: string): object => ({ dockerfile: 'src', os: 'linux', architecture, tags: { [tag]: {} } });
    const manifest = { registry: '127.0.0.1:5999', repos: [{ name: 'w', images: [{ platforms: [platform('amd64', 'a'), platform('arm64', 'b')] }] }] };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const result = await runCli(['graph'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stderr.trim().split('\n');
    assert.deepEqual(lines.map((l) => l.replace(/ fetches.*/, '')), ['imagewright: warning: src/Dockerfile: line 2: ADD https://example.com/tool.tgz']);
  });

  it('an image-info none of whose records belongs to the manifest is one warning naming the closest repo names', async () => {
    const here = join(dir, 'unmatched');
    mkdirSync(join(here, 'src'), { recursive: true });
    writeFileSync(join(here, 'src', 'Dockerfile'), 'FROM scratch\nCOPY Dockerfile /\n');
    const platform = (architecture: string, tag: string): object => ({ dockerfile: 'src', os: 'linux', osVersion: 'x', architecture, tags: { [tag]: {} } });
    const manifest = { registry: 'mcr.microsoft.com', repos: [{ name: 'tools/prereqs', images: [{ platforms: [platform('amd64', 'a'), platform('arm64', 'b')] }] }] };
    writeFileSync(join(here, 'manifest.json'), JSON.stringify(manifest));
    // Written under another --repo-prefix, which it carries in its repo name.
    const record = (architecture: string, tag: string): object => ({
      dockerfile: 'src/Dockerfile', simpleTags: [tag], digest: `127.0.0.1:5999/stage-1/tools/prereqs@sha256:${'1'.repeat(64)}`,
      osType: 'Linux', osVersion: 'x', architecture, commitUrl: '',
    });
    const info = { schemaVersion: '2.0', repos: [{ repo: 'stage-1/tools/prereqs', images: [{ platforms: [record('amd64', 'a'), record('arm64', 'b')] }] }, { repo: 'other', images: [] }] };
    writeFileSync(join(here, 'image-info.json'), JSON.stringify(info));
    const result = await runCli(['plan', '--image-info', 'image-info.json', '--registry-override', registry, '--repo-prefix', 'stage-2/'], { cwd: here });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stderr.trim().split('\n'), [
      'imagewright: warning: image-info.json: none of its 2 platform records belongs to a platform of the manifest, so every platform is new: ' +
        'the closest repo names it has are "stage-1/tools/prereqs" (the manifest\'s "tools/prereqs"); image-info names repos as the manifest does, without --repo-prefix',
    ]);
    assert.match(result.stdout, /2 to build, 0 to reuse/);

    // Under the prefix it was written with, its records are the manifest's: no warning.
    const matching = await runCli(['plan', '--image-info', 'image-info.json', '--registry-override', registry, '--repo-prefix', 'stage-1/'], { cwd: here });
    assert.doesNotMatch(matching.stderr, /belongs to a platform/);
  });
});
