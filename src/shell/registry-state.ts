/**
 * Image-info read back from the registry: every image imagewright builds carries its build key, the
 * images it read and its inputs as labels, so a repository can plan without a state file. One
 * manifest fetch (two when the tag names an index) and one config fetch per platform.
 */
import { ImageNotFoundError } from '../errors.js';
import { platformRecordIdentity, upsertPlatformRecord } from '../imageinfo/index.js';
import { readRecordLabels } from '../imageinfo/labels.js';
import type { ImageInfo, PlatformRecord } from '../imageinfo/types.js';
import { qualifiedTag, type Manifest, type ManifestPlatform } from '../manifest/types.js';
import { manifestTargetPlatform, pickPlatformEntry } from '../platform.js';
import { parseReference, pinnedReference, repositoryOf } from '../reference.js';
import { isIndexMediaType, type RegistryClient } from '../registry/index.js';


export type LabelReader = Pick<RegistryClient, 'getManifest' | 'getBlob'>;

/** The fields of an OCI image config that imagewright reads. */
export interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  'os.version'?: string;
  created?: string;
  config?: { Labels?: Record<string, string> | null };
}

/** The config blob of an image manifest (its body), parsed; undefined when the manifest names none. */
export async function readImageConfig(registry: LabelReader, repo: string, manifestBody: Buffer): Promise<ImageConfig | undefined> {
  const body = JSON.parse(manifestBody.toString('utf8')) as { config?: { digest?: string } };
  const digest = body.config?.digest;
  if (!digest) return undefined;
  return JSON.parse((await registry.getBlob(repo, digest)).toString('utf8')) as ImageConfig;
}

export async function readImageInfoFromRegistry(manifest: Manifest, registry: LabelReader): Promise<ImageInfo> {
  const platforms = manifest.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
  const records = await Promise.all(platforms.map((p) => recordFromLabels(manifest, p, registry)));
  let info: ImageInfo = { schemaVersion: '2.0', repos: [] };
  records.forEach((record, i) => {
    const platform = platforms[i];
    if (!record || !platform) return;
    const image = manifest.repos.find((r) => r.name === platform.repo)?.images[platform.imageIndex];
    if (image) info = upsertPlatformRecord(info, platform.repo, image, record);
  });
  return info;
}

async function recordFromLabels(manifest: Manifest, platform: ManifestPlatform, registry: LabelReader): Promise<PlatformRecord | undefined> {
  const tag = platform.tags[0] ?? platform.sharedTags[0];
  if (!tag) return undefined;
  const ref = qualifiedTag(manifest, platform.repo, tag);
  const parsed = parseReference(ref);
  if (!parsed) return undefined;
  const repo = repositoryOf(parsed);
  let answer;
  try {
    answer = await registry.getManifest(ref);
    if (isIndexMediaType(answer.mediaType)) {
      const entries = (JSON.parse(answer.body.toString('utf8')) as { manifests?: [] }).manifests ?? [];
      const entry = pickPlatformEntry(entries, manifestTargetPlatform(platform));
      if (!entry) return undefined;
      answer = await registry.getManifest(pinnedReference(repo, entry.digest));
    }
  } catch (err) {
    if (err instanceof ImageNotFoundError) return undefined;
    throw err;
  }
  const body = JSON.parse(answer.body.toString('utf8')) as { layers?: Array<{ digest: string; size: number }> };
  const config = await readImageConfig(registry, repo, answer.body);
  if (!config) return undefined;
  const labels = config.config?.Labels ?? {};
  const record: PlatformRecord = {
    ...platformRecordIdentity(platform),
    // Tags added to an image after its build carry no label; a record read back lists the platform's tags.
    simpleTags: [...platform.tags].sort(),
    digest: pinnedReference(repo, answer.digest),
  };
  if (config.created) record.created = config.created;
  if (body.layers) record.layers = body.layers.map((l) => ({ digest: l.digest, size: l.size }));
  // An image without our labels was built by something else: it is recorded without a build key and rebuilt once.
  const labelled = readRecordLabels(labels, ref);
  return labelled ? { ...record, ...labelled } : record;
}
