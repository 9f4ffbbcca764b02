/**
 * `$(name)` substitution as ImageBuilder's VariableHelper does it: user variables (manifest `variables`,
 * overridden by `--var`), and the built-in `$(Repo:<id>)`, the registry-qualified name of the repo with
 * that id. Unlike ImageBuilder, a variable may reference one defined after it; cycles are errors.
 */
import { type BadInputError, OptionError } from '../errors.js';
import type { RawVariable } from './includes.js';
import { siteError, type Site } from './source.js';

/** ImageBuilder's variable pattern: word characters, `:`, `-`, `.`, `|` and spaces between `$(` and `)`. */
const REFERENCE = /\$\(([\p{L}\p{N}_:\-.| ]+)\)/gu;
const BUILT_IN_SEPARATOR = ':';

/** Where a value came from: a place in a manifest file, or a `--var` option. */
export type Blame = Site | { option: string };

interface Definition {
  name: string;
  value: string;
  blame: Blame;
}

export class Variables {
  private readonly definitions = new Map<string, Definition>();
  private readonly resolved = new Map<string, string>();
  private readonly resolving: string[] = [];

  /**
   * @param repoQualifiedName the value of `$(Repo:<id>)`, or undefined when no repo has that id.
   */
  constructor(
    manifestVariables: ReadonlyMap<string, RawVariable>,
    overrides: Readonly<Record<string, string>>,
    private readonly repoQualifiedName: (id: string) => string | undefined,
  ) {
    for (const v of manifestVariables.values()) this.definitions.set(v.name, { name: v.name, value: v.value, blame: v.site });
    for (const [name, value] of Object.entries(overrides)) {
      this.definitions.set(name, { name, value, blame: { option: name } });
    }
  }

  /** Every variable, resolved: manifest order, then variables only `--var` defines. */
  all(): Record<string, string> {
    // fromEntries defines own properties, so even a variable named __proto__ stays data.
    return Object.fromEntries([...this.definitions.values()].map((d) => [d.name, this.valueOf(d)]));
  }

  substitute(text: string, blame: Blame): string {
    if (!text.includes('$(')) return text;
    return text.replace(REFERENCE, (reference: string, name: string) => this.lookup(name, reference, blame));
  }

  private lookup(name: string, reference: string, blame: Blame): string {
    const separator = name.indexOf(BUILT_IN_SEPARATOR);
    if (separator >= 0) {
      const kind = name.slice(0, separator);
      if (kind !== 'Repo') {
        throw blameError(blame, `unsupported built-in variable ${reference}; only $(Repo:<id>) is supported`);
      }
      const qualified = this.repoQualifiedName(name.slice(separator + 1));
      if (qualified === undefined) throw blameError(blame, `${reference} names no repo id in the manifest`);
      return qualified;
    }
    const definition = this.definitions.get(name);
    if (!definition) throw blameError(blame, `unresolved variable ${reference}`);
    return this.valueOf(definition);
  }

  private valueOf(definition: Definition): string {
    const known = this.resolved.get(definition.name);
    if (known !== undefined) return known;
    const start = this.resolving.indexOf(definition.name);
    if (start >= 0) {
      const cycle = [...this.resolving.slice(start), definition.name].join(' -> ');
      throw blameError(definition.blame, `variable cycle: ${cycle}`);
    }
    this.resolving.push(definition.name);
    const value = this.substitute(definition.value, definition.blame);
    this.resolving.pop();
    this.resolved.set(definition.name, value);
    return value;
  }
}

function blameError(blame: Blame, problem: string): BadInputError {
  return 'option' in blame ? new OptionError('--var', `${blame.option}: ${problem}`) : siteError(blame, problem);
}
