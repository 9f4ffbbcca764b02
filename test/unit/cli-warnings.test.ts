/** Warnings reach the user once, on stderr, without failing the command (graph needs no registry). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'iw-warnings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

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
});
