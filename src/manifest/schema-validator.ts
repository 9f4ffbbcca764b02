/**
 * The manifest schema's validator. Run from source, it is compiled on first use. The bundle
 * (scripts/bundle.mjs) replaces this module with the code ajv generates at build time for the same
 * schema and the same options (ajv-options.json), so a command does not pay to compile it every run.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

export function createValidator(): ValidateFunction {
  const read = (relative: string): object => JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as object;
  // The schema is ours and a unit test checks it against the meta-schema, so a run need not.
  return new Ajv({ ...read('./ajv-options.json'), validateSchema: false }).compile(read('../../schema/manifest.schema.json'));
}
