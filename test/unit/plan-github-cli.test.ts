/**
 * `plan --format github` end to end through the real CLI. The repository's Dockerfiles read no image
 * (FROM scratch) and there is no previous image-info, so the plan needs no registry: everything is new.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iw-plan-github-'));
  for (const name of ['one', 'two']) {
    mkdirSync(join(dir, 'src', name), { recursive: true });
    writeFileSync(join(dir, 'src', name, 'Dockerfile'), 'FROM scratch\nCOPY file /file\n');
    writeFileSync(join(dir, 'src', name, 'file'), `${name}\n`);
  }
  const platform = (name: string): object => ({ dockerfile: `src/${name}`, os: 'linux', osVersion: 'scratch', tags: { [name]: {} } });
  const manifest = { registry: '127.0.0.1:5999', repos: [{ name: 'plan-github', images: [{ platforms: [platform('one'), platform('two')] }] }] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('plan --format github (CLI)', () => {
  it('prints the summary, appends it to $GITHUB_STEP_SUMMARY, writes outputs, and --exit-code exits 10', async () => {
    const summaryFile = join(dir, 'summary.md');
    const outputFile = join(dir, 'output.txt');
    writeFileSync(summaryFile, 'earlier step\n');
    writeFileSync(outputFile, 'earlier=1\n');
    const result = await runCli(['plan', '--image-info', 'image-info.json', '--format', 'github', '--exit-code'], {
      cwd: dir,
      env: { GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile },
    });
    assert.equal(result.code, ExitCode.stale, result.stderr);
    assert.match(result.stdout, /^## imagewright plan: 2 of 2 platforms stale\n/);
    assert.match(result.stdout, /^\| `plan-github:one` \| `src\/one\/Dockerfile` \| no previous image-info \|$/m);
    assert.equal(readFileSync(summaryFile, 'utf8'), `earlier step\n${result.stdout}`, 'appended, not replaced');
    assert.equal(readFileSync(outputFile, 'utf8'), 'earlier=1\nstale=true\nbuild-count=2\npublish-count=0\n');
  });

  it('without --exit-code a stale plan exits 0; outside Actions only stdout is written', async () => {
    const result = await runCli(['plan', '--image-info', 'image-info.json', '--format', 'github'], {
      cwd: dir,
      env: { GITHUB_STEP_SUMMARY: '', GITHUB_OUTPUT: '' },
    });
    assert.equal(result.code, ExitCode.ok, result.stderr);
    assert.match(result.stdout, /2 to build/);
  });
});
