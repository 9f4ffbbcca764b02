/** Why a platform's build key differs from the recorded one, from the recorded inputs and reads. */
import { shortDigest } from '../digest.js';
import type { FromImageRecord, InputsRecord, PlatformRecord } from '../imageinfo/types.js';
import type { KeyedPlatform } from './keys.js';
import type { PlatformPlan, Reason } from './types.js';

type ReasonOf<K extends Reason['kind']> = Extract<Reason, { kind: K }>;

export function explainKeyChange(
  current: KeyedPlatform,
  record: PlatformRecord & { buildKey: string },
  fromImages: FromImageRecord[],
  planned: ReadonlyMap<string, PlatformPlan>,
): Reason[] {
  const reasons: Reason[] = [];
  if (record.inputs) reasons.push(...inputChanges(current, record.inputs));
  if (record.fromImages) reasons.push(...readChanges(current, record.fromImages, fromImages, planned));
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

function inputChanges(current: KeyedPlatform, old: InputsRecord): Reason[] {
  const now = current.inputs;
  const reasons: Reason[] = [];
  if (old.dockerfile !== now.dockerfile) {
    reasons.push({
      kind: 'dockerfile-changed',
      detail: `${current.platform.dockerfile} changed (${shortDigest(old.dockerfile)} → ${shortDigest(now.dockerfile)})`,
    });
  }
  if (old.context !== now.context) reasons.push(contextChange(old.contextFiles ?? {}, now.contextFiles));
  const args = changedKeys(old.buildArgs ?? {}, now.buildArgs);
  // Names only: build args may carry secrets, and values never belong in logs.
  if (args.length > 0) reasons.push({ kind: 'build-args-changed', detail: `build args changed: ${args.join(', ')}`, args });
  if (old.platform !== now.platform) {
    reasons.push({ kind: 'platform-changed', detail: `platform changed: ${old.platform} → ${now.platform}`, old: old.platform, new: now.platform });
  }
  return reasons;
}

function contextChange(old: Record<string, string>, now: Record<string, string>): ReasonOf<'context-changed'> {
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
