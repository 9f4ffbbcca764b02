/**
 * Why a platform's build key differs from the recorded one: the key material, field by field, against
 * the recorded inputs and reads.
 */
import { BUILD_KEY_VERSION, recordedKeyVersion, type BuildKeyMaterial } from '../build-key.js';
import { sha256Digest, shortDigest } from '../digest.js';
import type { FromImageRecord, InputsRecord, PlatformRecord } from '../imageinfo/types.js';
import type { KeyedPlatform } from './keys.js';
import type { PlatformPlan, Reason } from './types.js';

type ReasonOf<K extends Reason['kind']> = Extract<Reason, { kind: K }>;

interface Comparison {
  current: KeyedPlatform;
  record: PlatformRecord & { buildKey: string };
  /** The current reads as the record will hold them, parallel to `current.material.reads`. */
  fromImages: FromImageRecord[];
  planned: ReadonlyMap<string, PlatformPlan>;
}

/**
 * How a change of each key material field reads, in the order reasons are listed. The mapped type makes
 * a field added to BuildKeyMaterial a compile error here until its change is explained.
 */
const FIELD_CHANGES: { [F in keyof BuildKeyMaterial]-?: (c: Comparison, old: InputsRecord | undefined) => Reason[] } = {
  dockerfile: ({ current }, old) =>
    old && old.dockerfile !== current.inputs.dockerfile
      ? [
          {
            kind: 'dockerfile-changed',
            detail: `${current.platform.dockerfile} changed (${shortDigest(old.dockerfile)} → ${shortDigest(current.inputs.dockerfile)})`,
            old: old.dockerfile,
            new: current.inputs.dockerfile,
          },
        ]
      : [],
  context: ({ current }, old) =>
    old && old.context !== current.inputs.context
      ? [{ ...contextChange(old.contextFiles, current.inputs.contextFiles ?? {}, current.wholeContext), old: old.context, new: current.inputs.context }]
      : [],
  buildArgs: ({ current }, old) => {
    const oldArgs = old?.buildArgs ?? {};
    const args = old ? changedKeys(oldArgs, current.inputs.buildArgs) : [];
    // Names, and values only as digests: build args may carry secrets, and values never belong in output.
    const changes = args.map((name) => ({ name, old: valueDigest(oldArgs[name]), new: valueDigest(current.inputs.buildArgs[name]) }));
    return args.length > 0 ? [{ kind: 'build-args-changed', detail: `build args changed: ${args.join(', ')}`, args, changes }] : [];
  },
  platform: ({ current }, old) => {
    const now = current.inputs.platform;
    return old && old.platform !== now ? [{ kind: 'platform-changed', detail: `platform changed: ${old.platform} → ${now}`, old: old.platform, new: now }] : [];
  },
  buildPlatform: ({ current }, old) => {
    const was = old?.buildPlatform ?? '';
    const now = current.inputs.buildPlatform ?? '';
    return old && was !== now
      ? [{ kind: 'build-platform-changed', detail: `build platform changed: ${was || 'none'} → ${now || 'none'}`, old: was, new: now }]
      : [];
  },
  commandLineBuildArgs: ({ current }, old) => {
    const args = old ? changedNames(old.commandLineBuildArgs ?? [], current.inputs.commandLineBuildArgs ?? []) : [];
    // No `changes`: a command-line value is recorded nowhere, not even as a digest.
    return args.length > 0 ? [{ kind: 'build-args-changed', detail: `build args changed: ${args.join(', ')}`, args, changes: [] }] : [];
  },
  reads: ({ current, record, fromImages, planned }) => (record.fromImages ? readChanges(current, record.fromImages, fromImages, planned) : []),
};

export function explainKeyChange(
  current: KeyedPlatform,
  record: PlatformRecord & { buildKey: string },
  fromImages: FromImageRecord[],
  planned: ReadonlyMap<string, PlatformPlan>,
): Reason[] {
  // Recorded inputs say which key format the recorded key has; across formats, fields compare as apples and pears.
  const recordedVersion = record.inputs ? recordedKeyVersion(record.inputs) : BUILD_KEY_VERSION;
  if (recordedVersion !== BUILD_KEY_VERSION) {
    return [
      {
        kind: 'key-format-changed',
        detail: `key format changed (v${recordedVersion} → v${BUILD_KEY_VERSION})`,
        old: recordedVersion,
        new: BUILD_KEY_VERSION,
      },
    ];
  }
  const comparison: Comparison = { current, record, fromImages, planned };
  const reasons = Object.values(FIELD_CHANGES).flatMap((explain) => explain(comparison, record.inputs));
  const commandLine = current.inputs.commandLineBuildArgs ?? [];
  if (reasons.length === 0 && commandLine.length > 0 && record.inputs) {
    // Their values are not recorded: the key moved and nothing recorded did, so one of them changed.
    const detail =
      commandLine.length === 1 ? `build arg ${commandLine[0]} changed` : `build args changed: one of ${commandLine.join(', ')} (values are not recorded)`;
    reasons.push({ kind: 'build-args-changed', detail, args: [...commandLine], changes: [] });
  }
  if (reasons.length === 0) {
    reasons.push({
      kind: 'build-key-changed',
      detail: `build key changed (${shortDigest(record.buildKey)} → ${shortDigest(current.key)}); the record does not say which input did`,
      old: record.buildKey,
      new: current.key,
    });
  }
  return reasons;
}

function valueDigest(value: string | undefined): string | null {
  return value === undefined ? null : sha256Digest(value);
}

function contextChange(
  old: Record<string, string> | undefined,
  now: Record<string, string>,
  whole: string | undefined,
): Omit<ReasonOf<'context-changed'>, 'old' | 'new'> {
  const reason = contextChangeOf(old, now);
  // The whole context counts only because a source is known at build time: say which, so it can be fixed.
  return whole ? { ...reason, detail: `${reason.detail} (the whole context is keyed: ${whole})` } : reason;
}

function contextChangeOf(old: Record<string, string> | undefined, now: Record<string, string>): Omit<ReasonOf<'context-changed'>, 'old' | 'new'> {
  if (old === undefined) {
    // A record read from image labels: they carry no per-file list.
    return { kind: 'context-changed', detail: 'build context changed (the previous record, read from image labels, lists no files)', added: [], removed: [], modified: [] };
  }
  const added = Object.keys(now).filter((f) => !(f in old)).sort();
  const removed = Object.keys(old).filter((f) => !(f in now)).sort();
  const modified = Object.keys(now).filter((f) => f in old && old[f] !== now[f]).sort();
  const parts = [
    added.length ? `added ${listSome(added)}` : '',
    removed.length ? `removed ${listSome(removed)}` : '',
    modified.length ? `modified ${listSome(modified)}` : '',
  ].filter((s) => s);
  const detail = parts.length ? `build context changed: ${parts.join('; ')}` : 'build context changed (file modes or ignore rules)';
  return { kind: 'context-changed', detail, added, removed, modified };
}

function readChanges(
  current: KeyedPlatform,
  recorded: FromImageRecord[],
  fromImages: FromImageRecord[],
  planned: ReadonlyMap<string, PlatformPlan>,
): Reason[] {
  const previous = groupReads(recorded);
  const reasons: Reason[] = [];
  const upstreamsNamed = new Set<string>();
  current.reads.forEach((read, i) => {
    const now = fromImages[i] as FromImageRecord;
    const old = previous.get(readIdentity(now))?.shift();
    const where = `${describeInstruction(now)} ${now.ref} in stage ${now.stage || '(syntax)'}`;
    if (read.internal === undefined || old === undefined) {
      if (read.internal === undefined && old?.digest === now.digest) return;
      reasons.push({
        kind: 'from-image-changed',
        detail: old
          ? `${where} changed (${shortDigest(old.digest)} → ${shortDigest(now.digest)})`
          : `${where} newly read${read.internal !== undefined ? ` (built here as ${read.internal})` : ` (${shortDigest(now.digest)})`}`,
        stage: now.stage,
        instruction: now.instruction,
        ref: now.ref,
        oldDigest: old?.digest ?? '',
        newDigest: now.digest,
      });
      return;
    }
    if (old.buildKey === now.buildKey || upstreamsNamed.has(read.internal)) return;
    upstreamsNamed.add(read.internal);
    const path = [...rootCausePath(read.internal, planned), current.platform.id];
    reasons.push({
      kind: 'upstream-rebuilt',
      // The path is worth showing only when the cause lies further up than the upstream itself.
      detail: `upstream ${read.internal} is rebuilt${path.length > 2 ? ` (${path.join(' → ')})` : ''}`,
      upstream: read.internal,
      path,
      old: old.buildKey ?? '',
      new: now.buildKey ?? '',
    });
  });
  return reasons;
}

/**
 * From the first platform whose own inputs changed down to `id`. An upstream that changed only because
 * of its own upstreams passes the blame on; `no-cache` and `image-missing` never change a key.
 */
function rootCausePath(id: string, planned: ReadonlyMap<string, PlatformPlan>): string[] {
  const reasons = planned.get(id)?.reasons ?? [];
  const ownCause = reasons.some((r) => r.kind !== 'upstream-rebuilt' && r.kind !== 'no-cache' && r.kind !== 'image-missing');
  const inherited = reasons.find((r): r is ReasonOf<'upstream-rebuilt'> => r.kind === 'upstream-rebuilt');
  return !ownCause && inherited ? inherited.path : [id];
}

/** Recorded reads by (stage, instruction, ref), in recorded order, so repeated reads pair up in order. */
function groupReads(records: FromImageRecord[]): Map<string, FromImageRecord[]> {
  const groups = new Map<string, FromImageRecord[]>();
  for (const record of records) {
    const key = readIdentity(record);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return groups;
}

function readIdentity(read: Pick<FromImageRecord, 'stage' | 'instruction' | 'ref'>): string {
  return JSON.stringify([read.stage, read.instruction, read.ref]);
}

/** Names given in one list and not the other, sorted. */
function changedNames(old: readonly string[], now: readonly string[]): string[] {
  return [...old.filter((n) => !now.includes(n)), ...now.filter((n) => !old.includes(n))].sort();
}

function changedKeys(old: Record<string, string>, now: Record<string, string>): string[] {
  const names = new Set([...Object.keys(old), ...Object.keys(now)]);
  return [...names].filter((n) => old[n] !== now[n]).sort();
}

export function describeInstruction(read: Pick<FromImageRecord, 'instruction'>): string {
  switch (read.instruction) {
    case 'COPY':
      return 'COPY --from';
    case 'ADD':
      return 'ADD --from';
    case 'MOUNT':
      return 'RUN --mount from';
    case 'SYNTAX':
      return 'syntax frontend';
    case 'ONBUILD':
      return 'ONBUILD read of';
    default:
      return read.instruction;
  }
}

function listSome(items: string[], max = 3): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/**
 * Why a checked tag does not name what image-info records: `found` is what it names now (`sha256:…`,
 * '' when it is gone), `recorded` the recorded image or index. `tag` is named as the reason shows it
 * (`tag 1.0-amd64`, `shared tag 1.0`).
 */
export function movedTagDetail(tag: string, found: string, recorded: string, what: 'image' | 'index'): string {
  return found
    ? `${tag} names ${shortDigest(found)}, not the recorded ${what} ${shortDigest(recorded)}`
    : `${tag} is not in the registry; the recorded ${what} ${shortDigest(recorded)} is`;
}
