/**
 * Turns a repo's image and platform entries into the model: variables substituted, tags checked for
 * form and uniqueness within the repo, platform ids assigned. Dockerfiles are resolved later (I/O).
 */
import type { RawImageJson, RawPlatformJson } from './raw.js';
import { at, describeSite, siteError, type Site } from './source.js';
import { formatPlatform } from '../platform.js';
import type { ManifestImage, ManifestPlatform } from './types.js';
import type { Variables } from './variables.js';

/** Docker's tag grammar (distribution/reference). */
const TAG = /^[\w][\w.-]{0,127}$/;

/** A platform whose Dockerfile is not resolved yet. */
export interface PlatformDraft {
  platform: ManifestPlatform;
  /** The `dockerfile` entry as written. */
  entry: string;
  site: Site;
}

/** One repo's images, built; tag uniqueness spans every image of the (consolidated) repo. */
export class RepoImages {
  readonly images: ManifestImage[] = [];
  readonly drafts: PlatformDraft[] = [];
  private readonly tagSites = new Map<string, Site>();

  constructor(
    private readonly repo: string,
    private readonly variables: Variables,
  ) {}

  add(json: RawImageJson, site: Site): void {
    const imageIndex = this.images.length;
    const sharedTags = this.tags(json.sharedTags, at(site, 'sharedTags'));
    const image: ManifestImage = { sharedTags, platforms: [], location: site.file.location(site.path) };
    if (json.productVersion !== undefined) {
      image.productVersion = this.variables.substitute(json.productVersion, at(site, 'productVersion'));
    }
    json.platforms.forEach((platformJson, platformIndex) => {
      const draft = this.platform(platformJson, at(site, 'platforms', platformIndex), image, imageIndex, platformIndex);
      image.platforms.push(draft.platform);
      this.drafts.push(draft);
    });
    this.images.push(image);
  }

  private platform(json: RawPlatformJson, site: Site, image: ManifestImage, imageIndex: number, platformIndex: number): PlatformDraft {
    const args = json.buildArgs ?? {};
    // fromEntries defines own properties, so even a build arg named __proto__ stays data.
    const buildArgs = Object.fromEntries(
      site.file
        .keysOf(args, [...site.path, 'buildArgs'])
        .map((name) => {
          const argSite = at(site, 'buildArgs', name);
          return [name, this.variables.substitute(site.file.scalarText(args[name] ?? '', argSite.path), argSite)];
        }),
    );
    const platform: ManifestPlatform = {
      id: '',
      repo: this.repo,
      imageIndex,
      platformIndex,
      dockerfile: '',
      dockerfilePath: '',
      contextDir: '',
      os: json.os,
      osVersion: json.osVersion ?? '',
      architecture: json.architecture ?? 'amd64',
      buildArgs,
      tags: this.tags(json.tags, at(site, 'tags')),
      sharedTags: image.sharedTags,
      location: site.file.location(site.path),
    };
    if (image.productVersion !== undefined) platform.productVersion = image.productVersion;
    // ImageBuilder treats an empty variant as none.
    if (json.variant) platform.variant = json.variant;
    return { platform, entry: json.dockerfile, site };
  }

  /** Tag names in manifest order, substituted, each claimed for this repo. */
  private tags(json: Record<string, object> | undefined, site: Site): string[] {
    if (!json) return [];
    return site.file.keysOf(json, site.path).map((key) => {
      const tagSite = at(site, key);
      const tag = this.variables.substitute(key, tagSite);
      if (!TAG.test(tag)) {
        const origin = tag === key ? '' : ` (from ${JSON.stringify(key)})`;
        throw siteError(
          tagSite,
          `${JSON.stringify(tag)}${origin} is not a valid tag: up to 128 letters, digits, '_', '.', '-', not starting with '.' or '-'`,
        );
      }
      const earlier = this.tagSites.get(tag);
      if (earlier) {
        throw siteError(tagSite, `duplicate tag ${JSON.stringify(tag)} in repo ${this.repo}; also at ${describeSite(earlier, site.file)}`);
      }
      this.tagSites.set(tag, tagSite);
      return tag;
    });
  }
}

/**
 * `<repo>:<first tag>`, or `<repo>:<first shared tag>@<platform>` for a platform without tags of its own.
 * Ids must be unique: they name graph nodes.
 */
export function assignIds(drafts: readonly PlatformDraft[]): void {
  const seen = new Map<string, Site>();
  for (const { platform, site } of drafts) {
    const own = platform.tags[0];
    const shared = platform.sharedTags[0];
    if (own === undefined && shared === undefined) {
      throw siteError(
        at(site, 'tags'),
        'the platform has no tags and its image no sharedTags, so it could never be pushed or referenced',
      );
    }
    const id = own !== undefined ? `${platform.repo}:${own}` : `${platform.repo}:${shared}@${formatPlatform(platform)}`;
    const earlier = seen.get(id);
    if (earlier) {
      throw siteError(
        site,
        `platform id ${id} is not unique (same as ${describeSite(earlier, site.file)}); give one of the platforms its own tags`,
      );
    }
    seen.set(id, site);
    platform.id = id;
  }
}
