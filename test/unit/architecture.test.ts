import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { minimatch } from 'minimatch';
// @ts-expect-error: the lint configuration is plain JavaScript without types.
import { PURE_FILES } from '../../eslint.config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURE = readFileSync(join(ROOT, 'test/fixtures/lint/plan-imports-registry.ts.fixture'), 'utf8');

/** The import-rule messages eslint gives `text` as if it were the file `path` of the tree. */
async function importViolations(path: string, text: string): Promise<Array<{ line: number; message: string }>> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(text, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => ({ line: m.line, message: m.message }));
}

function sourceFiles(dir = join(ROOT, 'src')): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [relative(ROOT, join(dir, entry.name))] : [],
  );
}

describe('architecture: the import rule (npm run lint, run by .ci/run)', () => {
  it('fails a plan/ file that imports registry/ or node:fs, naming each import', async () => {
    const violations = await importViolations('src/plan/resolve-in-planner.ts', FIXTURE);
    assert.deepEqual(
      violations.map((v) => v.line),
      [2, 3, 4],
      JSON.stringify(violations),
    );
    assert.match(violations[0]?.message ?? '', /pure rooms never import registry\//);
    assert.match(violations[1]?.message ?? '', /pure rooms do no I\/O/);
  });

  it('lets the shell import the same (the rule is about rooms, not about the code)', async () => {
    assert.deepEqual(await importViolations('src/shell/resolve.ts', FIXTURE), []);
  });

  it('keeps commands on shell/: a command importing execute/ fails', async () => {
    const violations = await importViolations('src/cli/commands/shortcut.ts', "import { acquireLock } from '../../execute/index.js';\nexport const lock = acquireLock;\n");
    assert.equal(violations.length, 1);
    assert.match(violations[0]?.message ?? '', /commands go through shell\//);
  });

  it('every pure-file pattern names files that exist, and .ci/run runs the lint', () => {
    const files = sourceFiles();
    for (const pattern of PURE_FILES as string[]) {
      assert.ok(files.some((f) => minimatch(f, pattern)), `${pattern} matches no file: update eslint.config.js and docs/architecture.md`);
    }
    assert.match(readFileSync(join(ROOT, '.ci/run'), 'utf8'), /^npm run lint$/m);
  });

  it('docs/architecture.md names every room of src/', () => {
    const doc = readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8');
    const rooms = readdirSync(join(ROOT, 'src'), { withFileTypes: true }).map((e) => (e.isDirectory() ? `\`${e.name}/\`` : e.name));
    for (const room of rooms) assert.ok(doc.includes(room), `docs/architecture.md does not mention ${room}`);
  });
});
