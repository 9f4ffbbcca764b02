/**
 * Pastes every command's current --help into docs/usage.md, between its `<!-- help: … -->` and
 * `<!-- /help -->` markers, at the 80 columns test/unit/docs-usage.test.ts checks it at.
 * Run after changing an option: npm run docs:usage
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createProgram } from '../src/cli/program.js';

const file = new URL('../docs/usage.md', import.meta.url);
const program = createProgram();
program.configureOutput({ getOutHelpWidth: () => 80 });

function helpOf(args: string[]): string {
  const [name] = args;
  const command = name === '--help' ? program : program.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`docs/usage.md names no command ${name}`);
  // helpInformation() leaves out the text added with addHelpText; outputHelp() writes all of it.
  let text = '';
  command.configureOutput({ writeOut: (s) => (text += s), getOutHelpWidth: () => 80 });
  command.outputHelp();
  return text.trimEnd();
}

const page = readFileSync(file, 'utf8');
const updated = page.replace(/<!-- help: (.+?) -->\n```text\n[\s\S]*?```\n<!-- \/help -->/g, (_block, args: string) => {
  const help = helpOf(args.split(' '));
  return `<!-- help: ${args} -->\n\`\`\`text\n$ imagewright ${args}\n${help}\n\`\`\`\n<!-- /help -->`;
});
writeFileSync(file, updated);
