/**
 * --progress modes as a person sees them: the tty block replayed on an emulated terminal, plain's
 * timestamped lines and GitHub groups, quiet's errors and summary, and which mode auto picks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createProgress, type BuildProgress } from '../../src/execute/progress.js';
import type { BuildRunResult, PlatformOutcome } from '../../src/execute/types.js';
import type { PlatformPlan } from '../../src/plan/types.js';
import { Terminal } from '../helpers/terminal.js';

const dir = mkdtempSync(join(tmpdir(), 'iw-progress-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function plan(id: string): PlatformPlan {
  return { id } as PlatformPlan;
}

function outcome(id: string, action: PlatformOutcome['action'] = 'built', logFile?: string): PlatformOutcome {
  return { id, action, digest: `127.0.0.1:5000/r@sha256:${'a'.repeat(64)}`, tags: [], fromImages: [], durationMs: 1500, notes: [], ...(logFile ? { logFile } : {}) };
}

function result(outcomes: PlatformOutcome[], failed = 0): BuildRunResult {
  return {
    outcomes: new Map(outcomes.map((o) => [o.id, o])),
    failures: Array.from({ length: failed }, (_, i) => ({ id: `f${i}`, message: 'boom', error: new Error('boom') })),
    skipped: [],
    indexes: [],
    ok: failed === 0,
    durationMs: 4200,
  };
}

/** A stream that records every write, sized like a terminal. */
function stream(isTTY: boolean, columns = 80, rows = 8): NodeJS.WritableStream & { writes: string[]; isTTY: boolean; columns: number; rows: number } {
  const writes: string[] = [];
  return { writes, isTTY, columns, rows, write: (chunk: string) => writes.push(chunk) > 0 } as unknown as NodeJS.WritableStream & {
    writes: string[];
    isTTY: boolean;
    columns: number;
    rows: number;
  };
}

describe('--progress tty', () => {
  it('30 platforms at once on an 80x8 terminal: the live block never leaves the screen, the summary is whole', () => {
    let now = 0;
    const out = stream(true);
    const progress = createProgress({ stream: out, mode: 'tty', now: () => now, redrawMs: 60_000 });
    const ids = Array.from({ length: 30 }, (_, i) => `prereqs:platform-with-a-long-name-${i}`);
    const term = new Terminal(80, 8);
    const replay = (): void => {
      for (const w of out.writes.splice(0)) term.write(w.replace(/\n/g, '\r\n'));
      assert.deepEqual(term.scrollback.filter(isLive), [], 'no live line scrolled off the screen');
      assert.ok(term.screen.filter(isLive).every((line) => line.length < 80), 'no line of the block wraps');
    };
    progress.begin?.(ids.map(plan));
    replay();
    for (const [i, id] of ids.entries()) {
      now += 100;
      progress.started(plan(id), 'build: Dockerfile changed');
      progress.output?.(plan(id), `#5 [2/3] RUN make -j8 step ${i}\r\n#5 0.42 \x1b[31mcompiling\x1b[0m unit ${i}\x07\n`);
      replay();
    }
    const block = term.screen.filter(isLive);
    assert.ok(block.length <= 7, `the block fits with the cursor line: ${block.length} lines`);
    assert.match(block[0] ?? '', /^\[\+\] building 3\.0s: 0 done, 0 failed, 0 queued, 30 running$/);
    assert.match(block[1] ?? '', /^ => prereqs:platform-with-a-long-name-0 +2\.9s {2}#5 0\.42 compiling unit 0$/, 'the tail of the log line, escapes removed');
    assert.match(block.at(-1) ?? '', /^ {4}… and 25 more running$/);
    const outcomes = ids.map((id) => outcome(id));
    for (const o of outcomes) {
      progress.finished(plan(o.id), o);
      replay();
    }
    progress.done(result(outcomes));
    replay();
    const transcript = term.transcript;
    assert.deepEqual(transcript.filter(isLive), [], 'the block is gone');
    // Lines longer than the terminal wrap, as they do everywhere: join them back to compare.
    const summary = transcript.join('\n').replace(/(.{80})\n/g, '$1').split('\n');
    assert.equal(summary.length, 31, 'one line per built platform, then the summary');
    for (const id of ids) assert.ok(summary.includes(`built   ${id} in 1.5s → sha256:${'a'.repeat(64)}`), id);
    assert.equal(transcript.at(-1), 'done: 30 built, 0 reused, 0 retagged, 0 failed, 0 skipped in 4.2s');
  });

  it('counts done, failed and queued; a failure prints above the block at once, without the log\'s escape sequences', () => {
    const out = stream(true, 80, 24);
    const progress = createProgress({ stream: out, mode: 'tty', now: () => 0, redrawMs: 60_000 });
    progress.begin?.(['a', 'b', 'c', 'd'].map(plan));
    progress.started(plan('a'), 'build');
    progress.finished(plan('a'), outcome('a'));
    progress.started(plan('b'), 'build');
    progress.failed(plan('b'), { id: 'b', message: 'docker build failed', error: new Error('x'), logTail: 'step 1\n\x1b]0;title\x07evil \x1b[2Jline\n' });
    const term = new Terminal(80, 24);
    for (const w of out.writes) term.write(w.replace(/\n/g, '\r\n'));
    assert.deepEqual(term.screen.filter((l) => l), [
      'FAILED  b: docker build failed',
      '    | step 1',
      '    | evil line',
      '[+] building 0.0s: 1 done, 1 failed, 2 queued, 0 running',
    ]);
  });
});

describe('--progress plain, quiet, auto', () => {
  it('plain: one timestamped line per event, no escape sequences', () => {
    let now = 1000;
    const out = stream(false);
    const progress = createProgress({ stream: out, mode: 'plain', now: () => now, env: {} });
    progress.started(plan('a'), 'build: new');
    now += 2500;
    progress.finished(plan('a'), outcome('a'));
    progress.done(result([outcome('a')]));
    assert.deepEqual(out.writes.join('').split('\n'), [
      '[   0.0s] start   a: build: new',
      `[   2.5s] built   a in 1.5s → sha256:${'a'.repeat(64)}`,
      '[   2.5s] done: 1 built, 0 reused, 0 retagged, 0 failed, 0 skipped in 4.2s',
      '',
    ]);
  });

  it('plain on GitHub Actions: each build log in a ::group::, its workflow commands stopped', () => {
    const log = join(dir, 'a.log');
    writeFileSync(log, '#1 building\n::endgroup::\n::add-mask::x\n');
    const out = stream(false);
    const progress = createProgress({ stream: out, mode: 'auto', env: { GITHUB_ACTIONS: 'true' } });
    progress.finished(plan('a'), outcome('a', 'built', log));
    const text = out.writes.join('');
    const token = /::stop-commands::([0-9a-f]{32})\n/.exec(text)?.[1];
    assert.ok(token, text);
    const lines = text.split('\n');
    assert.match(lines[0] ?? '', /\] built {3}a in 1\.5s/);
    assert.deepEqual(lines.slice(1), ['::group::a build log', `::stop-commands::${token}`, '#1 building', '::endgroup::', '::add-mask::x', `::${token}::`, '::endgroup::', '']);
  });

  it('quiet: errors and the summary only', () => {
    const out = stream(false);
    const progress = createProgress({ stream: out, mode: 'quiet' });
    progress.started(plan('a'), 'build');
    progress.finished(plan('a'), outcome('a'));
    progress.failed(plan('b'), { id: 'b', message: 'docker build failed', error: new Error('x') });
    progress.done(result([outcome('a')], 1));
    assert.deepEqual(out.writes.join('').split('\n'), ['FAILED  b: docker build failed', 'FAILED: 1 built, 0 reused, 0 retagged, 1 failed, 0 skipped in 4.2s', '']);
  });

  it('auto: tty on a terminal unless TERM is dumb, plain elsewhere', () => {
    const kind = (isTTY: boolean, term: string | undefined): string => {
      const out = stream(isTTY);
      const progress: BuildProgress = createProgress({ stream: out, mode: 'auto', env: term === undefined ? {} : { TERM: term }, redrawMs: 60_000 });
      progress.started(plan('a'), 'build');
      progress.done(result([]));
      return out.writes.join('').includes('\x1b[') ? 'tty' : 'plain';
    };
    assert.equal(kind(true, 'xterm-256color'), 'tty');
    assert.equal(kind(true, 'dumb'), 'plain');
    assert.equal(kind(false, 'xterm-256color'), 'plain');
  });
});

function isLive(line: string): boolean {
  return line.startsWith('[+] building') || line.startsWith(' => ') || line.startsWith('    … and');
}
