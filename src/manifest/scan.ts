/**
 * One pass over JSON text (already known to be well-formed) that records what JSON.parse loses:
 * duplicate keys, the written order of objects whose keys look like array indices (JavaScript moves
 * those first), and where each array element starts (for line numbers). It builds no tree: building
 * one costs a 1,000-platform manifest ~200 ms cold, mostly garbage collection.
 */
import { formatPath, type JsonPath } from './path.js';

export interface ScanIndex {
  /** Start offset of each element of each array, keyed by the array's formatted path. */
  elementOffsets: Map<string, number[]>;
  /** Keys in written order, only for objects having an index-like key, keyed by formatted path. */
  keyOrder: Map<string, string[]>;
  /** Numbers whose JavaScript value prints differently from their text (`3.10`), keyed by formatted path. */
  numberTexts: Map<string, string>;
  duplicate?: { path: JsonPath; offset: number; firstOffset: number };
}

interface Frame {
  parent: Frame | undefined;
  /** This container's key or index in its parent. */
  segment: string | number | undefined;
  array: boolean;
  /** Object frames: keys seen so far, with their offsets. */
  keys?: Map<string, number>;
  currentKey?: string;
  indexLikeKeys?: boolean;
  /** Array frames: element start offsets. */
  offsets?: number[];
}

const STRING = /"(?:[^"\\]|\\.)*"/y;
const SCALAR = /[^\s,\]}/]+/y;
/** Keys JavaScript orders numerically ahead of the others (array indices up to 2^32 - 2). */
const INDEX_LIKE = /^(?:0|[1-9]\d{0,9})$/;

export function scanJson(text: string): ScanIndex {
  const index: ScanIndex = { elementOffsets: new Map(), keyOrder: new Map(), numberTexts: new Map() };
  let top: Frame | undefined;
  let expectKey = false;
  let pos = 0;
  const valueStarts = (offset: number): string | number | undefined => {
    if (!top) return undefined;
    if (!top.array) return top.currentKey;
    const offsets = top.offsets as number[];
    offsets.push(offset);
    return offsets.length - 1;
  };
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a /* : */) {
      pos++;
    } else if (c === 0x2f /* / */) {
      pos = text.charCodeAt(pos + 1) === 0x2f ? endOf(text.indexOf('\n', pos), text) : endOf(text.indexOf('*/', pos + 2), text) + 2;
    } else if (c === 0x22 /* " */) {
      STRING.lastIndex = pos;
      STRING.test(text);
      if (expectKey && top && !top.array) {
        const key = decode(text.slice(pos, STRING.lastIndex));
        top.keys ??= new Map();
        const first = top.keys.get(key);
        if (first !== undefined && !index.duplicate) index.duplicate = { path: [...pathOf(top), key], offset: pos, firstOffset: first };
        top.keys.set(key, pos);
        top.currentKey = key;
        if (INDEX_LIKE.test(key)) top.indexLikeKeys = true;
        expectKey = false;
      } else {
        valueStarts(pos);
      }
      pos = STRING.lastIndex;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const array = c === 0x5b;
      top = { parent: top, segment: valueStarts(pos), array };
      if (array) {
        top.offsets = [];
        index.elementOffsets.set(formatPath(pathOf(top)), top.offsets);
      }
      expectKey = !array;
      pos++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (top?.indexLikeKeys && top.keys) index.keyOrder.set(formatPath(pathOf(top)), [...top.keys.keys()]);
      top = top?.parent;
      pos++;
    } else if (c === 0x2c /* , */) {
      expectKey = !!top && !top.array;
      pos++;
    } else {
      const segment = valueStarts(pos);
      SCALAR.lastIndex = pos;
      const end = SCALAR.test(text) ? SCALAR.lastIndex : pos + 1;
      const raw = text.slice(pos, end);
      if (top && segment !== undefined && /^-?\d/.test(raw) && String(Number(raw)) !== raw) {
        index.numberTexts.set(formatPath([...pathOf(top), segment]), raw);
      }
      pos = end;
    }
  }
  return index;
}

function pathOf(frame: Frame): JsonPath {
  const out: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f?.segment !== undefined; f = f.parent) out.push(f.segment);
  return out.reverse();
}

function endOf(found: number, text: string): number {
  return found < 0 ? text.length : found;
}

function decode(token: string): string {
  return token.includes('\\') ? (JSON.parse(token) as string) : token.slice(1, -1);
}
