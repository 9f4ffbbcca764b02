/**
 * Image-info names repos as the manifest does: no registry, no `--repo-prefix` (ImageBuilder skips a
 * record whose repo is not a manifest repo name). imagewright once wrote the prefix into the name;
 * such files are read as if it were not there.
 */
import type { Manifest } from '../manifest/types.js';
import type { ImageInfo } from './types.js';

/** `info` with repo names as the manifest writes them; a name carrying this run's repo prefix loses it when that names a manifest repo. */
export function withManifestRepoNames(info: ImageInfo, manifest: Pick<Manifest, 'location' | 'repos'>): ImageInfo {
  const prefix = manifest.location.repoPrefix;
  if (!prefix) return info;
  const names = new Set(manifest.repos.map((r) => r.name));
  const recorded = new Set(info.repos.map((r) => r.repo));
  let changed = false;
  const repos = info.repos.map((record) => {
    if (names.has(record.repo) || !record.repo.startsWith(prefix)) return record;
    const name = record.repo.slice(prefix.length);
    // A record under the plain name is newer than one under the prefixed name.
    if (!names.has(name) || recorded.has(name)) return record;
    changed = true;
    return { ...record, repo: name };
  });
  return changed ? { ...info, repos } : info;
}
