/**
 * `imagewright report` through the real CLI, in its three modes: a plan made now, a saved plan,
 * the graph alone. The repository's Dockerfiles read no image (FROM scratch, FROM each other) and
 * there is no previous image-info, so planning needs no registry: everything is new.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../../src/errors.js';
import type { ReportData } from '../../src/report/index.js';
import { runCli } from '../helpers/cli.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'iw-report-'));
  const dockerfiles: Record<string, string> = { base: 'FROM scratch\nCOPY file /file\n', app: 'FROM 127.0.0.1:5999/report/r:base\nCOPY file /app\n' };
  for (const [name, text] of Object.entries(dockerfiles)) {
    mkdirSync(join(dir, 'src', name), { recursive: true });
    writeFileSync(join(dir, 'src', name, 'Dockerfile'), text);
    writeFileSync(join(dir, 'src', name, 'file'), `${name}\n`);
  }
  const platform = (name: string): object => ({ dockerfile: `src/${name}`, os: 'linux', osVersion: 'scratch', tags: { [name]: {} } });
  const manifest = { registry: '127.0.0.1:5999', repos: [{ name: 'report/r', images: [{ platforms: [platform('base')] }, { platforms: [platform('app')] }] }] };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function pageData(file: string): ReportData {
  const html = readFileSync(join(dir, file), 'utf8');
  const match = /<script type="application\/json" id="report-data">([^]*?)<\/script>/.exec(html);
  assert.ok(match?.[1], 'the page embeds its data');
  return JSON.parse(match[1]) as ReportData;
}

describe('report (CLI)', () => {
  it('plans as plan does and writes the page', async () => {
    const result = await runCli(['report', '--image-info', 'image-info.json', '--out', 'out/report.html'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /wrote out\/report\.html/);
    const data = pageData('out/report.html');
    assert.equal(data.source, 'plan');
    assert.deepEqual(data.nodes.map((n) => [n.id, n.decision]), [['report/r:base', 'build'], ['report/r:app', 'build']]);
    assert.deepEqual(data.edges, [[0, 1, 'FROM, stage 0']]);
    assert.match(readFileSync(join(dir, 'out/report.html'), 'utf8'), /<title>imagewright report: iw-report-[^/]+\/manifest\.json<\/title>/);
  });

  it('--plan draws a plan saved with plan --format json; --offline the graph alone', async () => {
    const saved = await runCli(['plan', '--image-info', 'image-info.json', '--format', 'json'], { cwd: dir });
    assert.equal(saved.code, 0, saved.stderr);
    writeFileSync(join(dir, 'plan.json'), saved.stdout);
    const fromSaved = await runCli(['report', '--plan', 'plan.json', '--out', 'saved.html'], { cwd: dir });
    assert.equal(fromSaved.code, 0, fromSaved.stderr);
    const data = pageData('saved.html');
    assert.equal(data.source, 'saved-plan');
    assert.deepEqual(data.nodes.map((n) => n.decision), ['build', 'build']);
    assert.ok(data.nodes.every((n) => n.inputs.length > 0 && n.reasons.length > 0));

    const offline = await runCli(['report', '--offline', '--out', 'graph.html'], { cwd: dir });
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual(pageData('graph.html').nodes.map((n) => n.decision), ['unplanned', 'unplanned']);
  });

  it('a bad saved plan: one line naming the file and field, exit 2, no page written', async () => {
    writeFileSync(join(dir, 'bad-plan.json'), JSON.stringify({ platforms: [{ id: 'x' }] }));
    const result = await runCli(['report', '--plan', 'bad-plan.json', '--out', 'bad.html'], { cwd: dir });
    assert.equal(result.code, ExitCode.badInput);
    assert.equal(result.stderr, 'imagewright: error: bad-plan.json: $.platforms[0].dockerfile: must be a string (a plan saved with `plan --format json`)\n');
    assert.ok(!existsSync(join(dir, 'bad.html')));
    const both = await runCli(['report', '--plan', 'plan.json', '--offline'], { cwd: dir });
    assert.equal(both.code, ExitCode.badInput);
    assert.match(both.stderr, /cannot be used with/);
  });
});
