/**
 * Reading image-info files as ImageBuilder writes them, and as imagewright writes them.
 *
 * Accepted as ImageBuilder accepts them: schemaVersion "1.0" (layers as plain digests) and "2.0"
 * (layers as `{digest, size}`, size left out when 0); lists ImageBuilder omits when empty may be
 * absent; comments are tolerated. Normalized on read: layers become `{digest, size}`, absent lists
 * become [], a missing index digest becomes '', schemaVersion becomes "2.0". Unknown fields stay.
 */
import { readFile } from 'node:fs/promises';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { parseJsonText } from '../manifest/index.js';
import { InputError } from '../errors.js';
import type { FromImageRecord, ImageInfo, ImageRecord, InputsRecord, LayerRecord, ManifestRecord, PlatformRecord, RepoRecord } from './types.js';

type Path = (string | number)[];
type JsonObject = Record<string, unknown>;

/** A shape problem at a JSON path; turned into an InputError with a line once the text is at hand. */
class ShapeError extends Error {
  constructor(
    readonly path: Path,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** The image-info in `file`, or undefined when there is no such file. */
export async function readImageInfo(file: string): Promise<ImageInfo | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new InputError(file, undefined, `cannot read image info (${code ?? String(error)})`);
  }
  return parseImageInfo(file, text);
}

/** `text` as the image-info file `file` (named in errors). */
export function parseImageInfo(file: string, text: string): ImageInfo {
  const raw = parseJson(file, text);
  try {
    return toImageInfo(raw);
  } catch (error) {
    if (!(error instanceof ShapeError)) throw error;
    throw new InputError(file, locate(text, error.path), error.problem);
  }
}

/** Comments and trailing commas are tolerated, as ImageBuilder's reader tolerates them; the parser is the manifest's. */
function parseJson(file: string, text: string): unknown {
  return parseJsonText(text.replace(/^\uFEFF/, ''), file, { allowTrailingComma: true });
}

/**
 * A platform record's `fromImages` and `inputs` from JSON that did not come from an image-info file
 * (the labels of an image), checked exactly as the file's are. `report` turns a problem at a JSON
 * path (`[0].ref`, '' for the whole value) into the error to throw.
 */
export function checkRecordParts(
  raw: { fromImages?: unknown; inputs?: unknown },
  report: (part: 'fromImages' | 'inputs', path: string, problem: string) => Error,
): { fromImages?: FromImageRecord[]; inputs?: InputsRecord } {
  const out: { fromImages?: FromImageRecord[]; inputs?: InputsRecord } = {};
  const check = <T>(part: 'fromImages' | 'inputs', convert: () => T): T => {
    try {
      return convert();
    } catch (error) {
      if (error instanceof ShapeError) throw report(part, jsonPathText(error.path), error.problem);
      throw error;
    }
  };
  if (raw.fromImages !== undefined) {
    const list = raw.fromImages;
    out.fromImages = check('fromImages', () => {
      if (!Array.isArray(list)) throw new ShapeError([], `expected a list, found ${describe(list)}`);
      return list.map((item: unknown, i) => toFromImage(item, [i]));
    });
  }
  if (raw.inputs !== undefined) {
    const inputs = raw.inputs;
    out.inputs = check('inputs', () => toInputs(inputs, []));
  }
  return out;
}

/** `repos[0].images[1].dockerfile` for messages, as the manifest loader writes them. */
function jsonPathText(path: Path): string {
  return path.reduce<string>(
    (out, segment) =>
      typeof segment === 'number' ? `${out}[${segment}]` : /^[A-Za-z_$][\w$]*$/.test(segment) ? (out ? `${out}.${segment}` : segment) : `${out}[${JSON.stringify(segment)}]`,
    '',
  );
}

/** `repos[0].images[1].dockerfile (line 12)`; the line is left out when it cannot be found. */
function locate(text: string, path: Path): string {
  const jsonPath = jsonPathText(path);
  const tree = parseTree(text.replace(/^\uFEFF/, ''), [], { allowTrailingComma: true });
  // The innermost node that exists: a missing property is reported at its object.
  let node;
  for (let n = path.length; tree && !node && n >= 0; n--) node = findNodeAtLocation(tree, path.slice(0, n));
  const where = jsonPath || '(top level)';
  return node ? `${where} (line ${lineAt(text, node.offset)})` : where;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function toImageInfo(raw: unknown): ImageInfo {
  const o = object(raw, []);
  const version = o.schemaVersion;
  if (version === undefined) throw new ShapeError(['schemaVersion'], 'schemaVersion is missing; expected "2.0"');
  if (typeof version !== 'string' || !/^(1\.0|2(\.\d+)*)$/.test(version)) {
    throw new ShapeError(['schemaVersion'], `schemaVersion ${JSON.stringify(version)} is not supported; expected "2.0" (or "1.0")`);
  }
  return { ...o, schemaVersion: '2.0', repos: list(o, 'repos', [], toRepo) } as ImageInfo;
}

function toRepo(raw: unknown, path: Path): RepoRecord {
  const o = object(raw, path);
  return { ...o, repo: string(o, 'repo', path), images: list(o, 'images', path, toImage) } as RepoRecord;
}

function toImage(raw: unknown, path: Path): ImageRecord {
  const o = object(raw, path);
  const out: JsonObject = { ...o, platforms: list(o, 'platforms', path, toPlatform) };
  assign(out, 'productVersion', optionalString(o, 'productVersion', path));
  assign(out, 'manifest', o.manifest == null ? undefined : toManifest(o.manifest, [...path, 'manifest']));
  return out as unknown as ImageRecord;
}

function toManifest(raw: unknown, path: Path): ManifestRecord {
  const o = object(raw, path);
  const out: JsonObject = {
    ...o,
    digest: optionalString(o, 'digest', path) ?? '',
    sharedTags: strings(o, 'sharedTags', path) ?? [],
  };
  assign(out, 'created', optionalString(o, 'created', path));
  assign(out, 'syndicatedDigests', strings(o, 'syndicatedDigests', path));
  return out as unknown as ManifestRecord;
}

function toPlatform(raw: unknown, path: Path): PlatformRecord {
  const o = object(raw, path);
  const out: JsonObject = {
    ...o,
    dockerfile: string(o, 'dockerfile', path),
    simpleTags: strings(o, 'simpleTags', path) ?? [],
    digest: string(o, 'digest', path),
    osType: string(o, 'osType', path),
    // ImageBuilder writes null here for a manifest platform without osVersion.
    osVersion: o.osVersion === null ? '' : string(o, 'osVersion', path),
    architecture: string(o, 'architecture', path),
  };
  for (const key of ['baseImageDigest', 'created', 'commitUrl', 'variant', 'buildKey'] as const) assign(out, key, optionalString(o, key, path));
  assign(out, 'layers', o.layers == null ? undefined : list(o, 'layers', path, toLayer));
  assign(out, 'isUnchanged', optionalBoolean(o, 'isUnchanged', path));
  assign(out, 'fromImages', o.fromImages == null ? undefined : list(o, 'fromImages', path, toFromImage));
  assign(out, 'inputs', o.inputs == null ? undefined : toInputs(o.inputs, [...path, 'inputs']));
  return out as unknown as PlatformRecord;
}

function toLayer(raw: unknown, path: Path): LayerRecord {
  // Schema 1.0 recorded the digest alone; ImageBuilder reads it as size 0 until the next build.
  if (typeof raw === 'string') return { digest: raw, size: 0 };
  const o = object(raw, path, 'a layer digest or {digest, size}');
  const size = o.size ?? 0;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) throw new ShapeError([...path, 'size'], 'size must be a whole number of bytes');
  return { ...o, digest: string(o, 'digest', path), size } as LayerRecord;
}

const instructions = new Set(['FROM', 'COPY', 'ADD', 'MOUNT', 'SYNTAX', 'ONBUILD']);

function toFromImage(raw: unknown, path: Path): FromImageRecord {
  const o = object(raw, path);
  const instruction = string(o, 'instruction', path);
  if (!instructions.has(instruction)) throw new ShapeError([...path, 'instruction'], `unknown instruction ${JSON.stringify(instruction)}`);
  const internal = o.internal;
  if (typeof internal !== 'boolean') throw new ShapeError([...path, 'internal'], 'internal must be true or false');
  const out: JsonObject = { ...o, stage: string(o, 'stage', path), instruction, ref: string(o, 'ref', path), digest: string(o, 'digest', path), internal };
  assign(out, 'buildKey', optionalString(o, 'buildKey', path));
  return out as unknown as FromImageRecord;
}

function toInputs(raw: unknown, path: Path): InputsRecord {
  const o = object(raw, path);
  const inputs = {
    ...o,
    dockerfile: string(o, 'dockerfile', path),
    context: string(o, 'context', path),
    buildArgs: stringMap(o, 'buildArgs', path),
    platform: string(o, 'platform', path),
  } as InputsRecord & JsonObject;
  assign(inputs, 'keyVersion', keyVersion(o, path));
  assign(inputs, 'buildPlatform', optionalString(o, 'buildPlatform', path));
  // Absent in records read from image labels.
  assign(inputs, 'contextFiles', o.contextFiles == null ? undefined : stringMap(o, 'contextFiles', path));
  assign(inputs, 'commandLineBuildArgs', o.commandLineBuildArgs == null ? undefined : stringList(o, 'commandLineBuildArgs', path));
  return inputs;
}

/** Absent in records keyed before version 2. */
function keyVersion(o: JsonObject, path: Path): number | undefined {
  const value = o.keyVersion;
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ShapeError([...path, 'keyVersion'], `keyVersion must be a whole number from 1, found ${describe(value)}`);
  }
  return value;
}

function object(raw: unknown, path: Path, what = 'an object'): JsonObject {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ShapeError(path, `expected ${what}, found ${describe(raw)}`);
  return raw as JsonObject;
}

function string(o: JsonObject, key: string, path: Path): string {
  const value = o[key];
  if (value === undefined) throw new ShapeError([...path, key], `${key} is missing`);
  if (typeof value !== 'string') throw new ShapeError([...path, key], `${key} must be a string, found ${describe(value)}`);
  return value;
}

function optionalString(o: JsonObject, key: string, path: Path): string | undefined {
  return o[key] == null ? undefined : string(o, key, path);
}

function optionalBoolean(o: JsonObject, key: string, path: Path): boolean | undefined {
  const value = o[key];
  if (value == null) return undefined;
  if (typeof value !== 'boolean') throw new ShapeError([...path, key], `${key} must be true or false, found ${describe(value)}`);
  return value;
}

function strings(o: JsonObject, key: string, path: Path): string[] | undefined {
  if (o[key] == null) return undefined;
  return list(o, key, path, (item, itemPath) => {
    if (typeof item !== 'string') throw new ShapeError(itemPath, `expected a string, found ${describe(item)}`);
    return item;
  });
}

function stringMap(o: JsonObject, key: string, path: Path): Record<string, string> {
  const map = object(o[key] ?? {}, [...path, key]);
  for (const [name, value] of Object.entries(map)) {
    if (typeof value !== 'string') throw new ShapeError([...path, key, name], `expected a string, found ${describe(value)}`);
  }
  return map as Record<string, string>;
}

function stringList(o: JsonObject, key: string, path: Path): string[] {
  return list(o, key, path, (raw, at) => {
    if (typeof raw !== 'string') throw new ShapeError(at, `expected a string, found ${describe(raw)}`);
    return raw;
  });
}

function list<T>(o: JsonObject, key: string, path: Path, item: (raw: unknown, path: Path) => T): T[] {
  const value = o[key];
  if (value == null) return [];
  if (!Array.isArray(value)) throw new ShapeError([...path, key], `${key} must be a list, found ${describe(value)}`);
  return value.map((raw, i) => item(raw, [...path, key, i]));
}

/** Sets `key`, or removes it when there is no value (a null read from the file counts as none). */
function assign(out: JsonObject, key: string, value: unknown): void {
  if (value === undefined) delete out[key];
  else out[key] = value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}
