/**
 * `build` in a real pseudo-terminal of 80x8 (util-linux `script`), against the real engine: what the
 * terminal shows, replayed on an emulated screen of that size. The live block must stay on the
 * screen (no line of it ever scrolls into the scrollback) and the final summary must be whole.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { cliPath } from '../helpers/cli.js';
import { IMAGE_INFO, Workspace } from '../helpers/e2e.js';
import { Terminal } from '../helpers/terminal.js';

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function isLive(line: string): boolean {
  return line.startsWith('[+] building') || line.startsWith(' => ') || line.startsWith('    … and');
}

describe('build --progress auto in a pseudo-terminal of 80x8', { timeout: 10 * 60_000 }, () => {
  let ws: Workspace;

  before(async () => {
    ws = await Workspace.create('pty');
  });

  after(async () => {
    await ws?.dispose();
  });

  it('draws a live block that never leaves the 8 lines, then a complete summary', async () => {
    const plan = await ws.plan('--image-info', IMAGE_INFO);
    const building = plan.platforms.filter((p) => p.decision === 'build').map((p) => p.id);
    assert.ok(building.length >= 8, `the demo builds ${building.length} platforms`);

    const command = [process.execPath, await cliPath(), 'build', '--image-info', IMAGE_INFO, '--progress', 'auto', '-j', '8', ...ws.commonArgs];
    const child = spawn('script', ['-qefc', `stty rows 8 cols 80; exec ${command.map(shellQuote).join(' ')}`, '/dev/null'], {
      cwd: ws.dir,
      env: { ...process.env, ...ws.env, TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const term = new Terminal(80, 8);
    let frames = 0;
    let tallest = 0;
    const spilled: string[] = [];
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      term.write(chunk);
      const block = term.screen.filter(isLive);
      if (block.length > 0) frames++;
      tallest = Math.max(tallest, block.length);
      spilled.push(...term.scrollback.filter(isLive));
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const transcript = term.transcript.join('\n');
    assert.equal(code, 0, `${stderr}\n${transcript}`);

    assert.ok(frames > 0, `a live block was drawn (auto picked tty):\n${transcript}`);
    assert.ok(tallest <= 7, `the block plus the cursor line fit in 8 rows; it had ${tallest} lines`);
    assert.deepEqual(spilled, [], 'no line of the live block scrolled off the screen');

    const lines = transcript.replace(/(.{80})\n/g, '$1').split('\n');
    assert.deepEqual(lines.filter(isLive), [], 'the block is gone at the end');
    for (const id of building) assert.ok(lines.some((l) => l.startsWith(`built   ${id} in `)), `the summary names ${id}:\n${transcript}`);
    assert.match(lines.at(-1) ?? '', new RegExp(`^done: ${building.length} built, \\d+ reused, 0 retagged, 0 failed, 0 skipped in `));
  });
});
