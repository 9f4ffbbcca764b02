/** How --help reads: examples under every command, and no defaults that say nothing. */
import { Help, type Option } from 'commander';

/**
 * An option whose default says nothing shows none: not `(default: [])` or `(default: {})` (a
 * repeatable option starts empty), nor `(default: false)` for a flag.
 */
export function optionDescription(this: Help, option: Option): string {
  const value: unknown = option.defaultValue;
  const empty =
    value === false ||
    (Array.isArray(value) && value.length === 0) ||
    (value !== null && typeof value === 'object' && Object.keys(value).length === 0);
  if (!empty) return Help.prototype.optionDescription.call(this, option);
  const shown = Object.assign(Object.create(Object.getPrototypeOf(option) as object) as Option, option, { defaultValue: undefined });
  return Help.prototype.optionDescription.call(this, shown);
}

/** An `Examples:` section for `addHelpText('after', …)`: each entry a command line and what it does. */
export function examples(entries: ReadonlyArray<readonly [commandLine: string, what: string]>): string {
  const lines = entries.flatMap(([line, what]) => [`  # ${what}`, `  $ ${line}`]);
  return `\nExamples:\n${lines.join('\n')}`;
}
