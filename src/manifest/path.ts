/** JSON paths as messages show them: `repos[0].images[1].tags["8.0-bookworm"]`. */

export type JsonPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** '' for the root. */
export function formatPath(jsonPath: JsonPath): string {
  let out = '';
  for (const segment of jsonPath) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
