import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createProgram } from '../../src/cli/program.js';

// docs/usage.md pastes every command's --help; this keeps the page true to the code.
describe('docs/usage.md', () => {
  const page = readFileSync(new URL('../../docs/usage.md', import.meta.url), 'utf8');
  const program = createProgram();
  // Commander wraps help to the terminal's width; the page holds the 80-column form.
  program.configureOutput({ getOutHelpWidth: () => 80 });

  for (const command of program.commands.filter((c) => c.name() !== 'help')) {
    it(`shows the current --help of ${command.name()}`, () => {
      assert.ok(page.includes(command.helpInformation().trim()), `docs/usage.md lacks the current \`imagewright ${command.name()} --help\``);
    });
  }
});
