import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { createProgram } from '../../src/cli/program.js';

/** What `imagewright <command> --help` prints at 80 columns, text added after the options included. */
function fullHelp(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 80 });
  command.outputHelp();
  return text.trimEnd();
}

// docs/usage.md pastes every command's --help (npm run docs:usage); this keeps the page true to the code.
describe('docs/usage.md', () => {
  const page = readFileSync(new URL('../../docs/usage.md', import.meta.url), 'utf8');
  const program = createProgram();
  const commands = program.commands.filter((c) => c.name() !== 'help');

  it('shows the current --help of imagewright itself', () => {
    assert.ok(page.includes(fullHelp(program)), 'docs/usage.md lacks the current `imagewright --help` (run npm run docs:usage)');
  });
  for (const command of commands) {
    it(`shows the current --help of ${command.name()}`, () => {
      assert.ok(page.includes(fullHelp(command)), `docs/usage.md lacks the current \`imagewright ${command.name()} --help\` (run npm run docs:usage)`);
    });
  }
});

describe('--help', () => {
  const program = createProgram();
  for (const command of [program, ...program.commands.filter((c) => c.name() !== 'help')]) {
    const name = command === program ? 'imagewright' : `imagewright ${command.name()}`;
    it(`${name}: an example, and no default that says nothing`, () => {
      const help = fullHelp(command);
      assert.match(help, /\nExamples:\n( {2}.*\n)* {2}\$ imagewright /, `${name} --help shows an example`);
      assert.doesNotMatch(help, /\(default: (\{\}|\[\]|false)\)/, `${name} --help shows an empty default`);
    });
  }
});
