/**
 * Structural checks against the shipped JSON Schema. Unknown fields are warnings (the schema marks
 * them with `additionalProperties: false` so editors flag them too); every other violation is an error.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { createValidator } from './schema-validator.js';
import type { JsonPath, SourceFile } from './source.js';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= createValidator();
  return compiled;
}

interface Finding {
  path: JsonPath;
  offset: number;
  problem: string;
}

/** Throw an InputError for the first structural problem in document order; warn about unknown fields. */
export function checkStructure(file: SourceFile, warn: (message: string) => void): void {
  const value = file.value;
  const validate = validator();
  if (validate(value)) return;
  const unknownFields: Finding[] = [];
  const problems: Finding[] = [];
  for (const error of validate.errors ?? []) {
    const finding = describe(error, pointerToPath(error.instancePath, value));
    const at = { ...finding, offset: file.offsetOf(finding.path) };
    (error.keyword === 'additionalProperties' ? unknownFields : problems).push(at);
  }
  for (const f of byOffset(unknownFields)) warn(`${file.display}: ${file.where(f.path)}: ${f.problem}`);
  const first = byOffset(problems)[0];
  if (first) throw file.error(first.path, first.problem);
}

function byOffset(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => a.offset - b.offset);
}

function describe(error: ErrorObject, at: JsonPath): { path: JsonPath; problem: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      return { path: [...at, field], problem: `unknown field ${JSON.stringify(field)} is ignored${caseHint(field, error)}` };
    }
    case 'required': {
      const field = String(params.missingProperty);
      return { path: [...at, field], problem: `required field ${JSON.stringify(field)} is missing${caseHint(field, error, error.data)}` };
    }
    case 'type': {
      const types = Array.isArray(params.type) ? params.type.map(String) : [String(params.type)];
      const expected = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : withArticle(types[0] ?? '');
      const subject = at.length === 0 ? 'the manifest must be' : 'must be';
      return { path: at, problem: `${subject} ${expected}, not ${kindOf(error.data)}` };
    }
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues : [];
      return {
        path: at,
        problem: `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(error.data)}`,
      };
    }
    case 'minLength':
    case 'minItems':
      return { path: at, problem: 'must not be empty' };
    default:
      return { path: at, problem: error.message ?? 'is invalid' };
  }
}

/**
 * ImageBuilder reads field names case-insensitively; imagewright does not, so point out the near miss.
 * For an unknown field the candidates are the schema's properties; for a missing one, the object's keys.
 */
function caseHint(field: string, error: ErrorObject, data?: unknown): string {
  const candidates = data === undefined ? Object.keys(propertiesOf(error.parentSchema)) : Object.keys(asRecord(data));
  const match = candidates.find((c) => c !== field && c.toLowerCase() === field.toLowerCase());
  if (!match) return '';
  return data === undefined
    ? ` (did you mean ${JSON.stringify(match)}? field names are case-sensitive)`
    : ` (found ${JSON.stringify(match)}; field names are case-sensitive)`;
}

function propertiesOf(schema: unknown): Record<string, unknown> {
  return asRecord(asRecord(schema).properties);
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function withArticle(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${withArticle(typeof value)} (${JSON.stringify(value)})`;
}

/** An ajv JSON Pointer as a path, with array indices as numbers (so it reads `repos[0]`, not `repos["0"]`). */
function pointerToPath(pointer: string, root: unknown): JsonPath {
  const out: Array<string | number> = [];
  let current: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      out.push(index);
      current = current[index];
    } else {
      out.push(segment);
      current = asRecord(current)[segment];
    }
  }
  return out;
}
