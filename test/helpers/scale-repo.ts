/**
 * Generated repositories of thousands of platforms, for the scale benchmark and the kill test of a
 * big no-change run: the files (one folder per platform, a Dockerfile and a payload each), and a
 * "built" state without building: a small distinct image pushed per platform (one manifest each) and an image-info
 * recording each as imagewright would after a build.
 *
 * Shapes: `chains` (5 deep, each level FROM the one above), `diamonds` (groups 5 deep and 4 wide,
 * each platform FROM one upstream and COPY --from another). Chain roots and diamond tops read the
 * base image only, so any chain or group builds on a real engine.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImageInfoDocument, platformRecordIdentity, writeImageInfoText } from '../../src/imageinfo/index.js';
import { qualifiedRepo, type ManifestImage } from '../../src/manifest/types.js';
import type { RegistryClient } from '../../src/registry/index.js';
import { planRepository, type LoadOptions } from '../../src/shell/plan.js';

export type ScaleShape = 'chains' | 'diamonds';

export interface ScaleOptions {
  platforms: number;
  shape: ScaleShape;
  /** Platforms are spread over this many repos (chain or group k in repo k mod repos). */
  repos: number;
  /** The manifest's registry, `host:port`. */
  registry: string;
  /** Repo names are `<prefix>/r<k>`. */
  prefix: string;
  /** The base image chain roots and diamond tops start FROM (a full reference). */
  base: string;
}

export interface ScaleRepo {
  dir: string;
  manifest: string;
  /** The folders (relative to dir) of the platforms of chain or group 0, roots first: what a one-change run rebuilds. */
  firstGroup: string[];
}

export const CHAIN_DEPTH = 5;
const DIAMOND_WIDTH = 4;

interface Spot {
  group: number;
  level: number;
  column: number;
}

function spotOf(i: number, shape: ScaleShape): Spot {
  if (shape === 'chains') return { group: Math.floor(i / CHAIN_DEPTH), level: i % CHAIN_DEPTH, column: 0 };
  const size = CHAIN_DEPTH * DIAMOND_WIDTH;
  const k = i % size;
  return { group: Math.floor(i / size), level: Math.floor(k / DIAMOND_WIDTH), column: k % DIAMOND_WIDTH };
}

const tagOf = (s: Spot): string => `g${s.group}-l${s.level}-${s.column}`;
const folderOf = (s: Spot): string => `src/g${s.group}/l${s.level}-${s.column}`;

const ROOT = 'ARG BASE\nFROM ${BASE}\nCOPY payload.txt /payload.txt\n';
const CHAIN = 'ARG UPSTREAM\nFROM ${UPSTREAM}\nCOPY payload.txt /payload.txt\n';
const DIAMOND = 'ARG UPSTREAM\nARG OTHER\nFROM ${OTHER} AS other\n\nFROM ${UPSTREAM}\nCOPY --from=other /payload.txt /other.txt\nCOPY payload.txt /payload.txt\n';

/** Writes the repository under `dir`. A repository holds whole chains (groups), so every platform's upstreams are counted in. */
export function writeScaleRepo(dir: string, options: ScaleOptions): ScaleRepo {
  const repoIndex = (s: Spot): number => s.group % options.repos;
  const images: object[][] = Array.from({ length: options.repos }, () => []);
  const firstGroup: string[] = [];
  for (let i = 0; i < options.platforms; i++) {
    const spot = spotOf(i, options.shape);
    const folder = folderOf(spot);
    mkdirSync(join(dir, folder), { recursive: true });
    const upstream = (column: number): string => `$(Repo:r${repoIndex(spot)}):${tagOf({ ...spot, level: spot.level - 1, column })}`;
    const buildArgs: Record<string, string> = {};
    let text = ROOT;
    if (spot.level === 0) buildArgs.BASE = options.base;
    else if (options.shape === 'chains') {
      text = CHAIN;
      buildArgs.UPSTREAM = upstream(0);
    } else {
      text = DIAMOND;
      buildArgs.UPSTREAM = upstream(spot.column);
      buildArgs.OTHER = upstream((spot.column + 1) % DIAMOND_WIDTH);
    }
    writeFileSync(join(dir, folder, 'Dockerfile'), text);
    writeFileSync(join(dir, folder, 'payload.txt'), `payload of ${tagOf(spot)}\n`);
    if (spot.group === 0) firstGroup.push(folder);
    images[repoIndex(spot)]?.push({ platforms: [{ dockerfile: folder, os: 'linux', osVersion: 'busybox', tags: { [tagOf(spot)]: {} }, buildArgs }] });
  }
  const manifest = {
    registry: options.registry,
    repos: images.map((list, k) => ({ id: `r${k}`, name: `${options.prefix}/r${k}`, images: list })),
  };
  const file = join(dir, 'manifest.json');
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return { dir, manifest: file, firstGroup };
}

/**
 * The state after a build of everything, without building: pushes a small image of its own for
 * every platform (a manifest each, sharing one layer and one config per repo) and writes
 * `imageInfo` recording each with the build key, reads and inputs the plan computes.
 */
export async function recordScaleRepoBuilt(
  repo: Pick<ScaleRepo, 'dir' | 'manifest'>,
  imageInfo: string,
  client: RegistryClient,
  concurrency = 16,
  /** How the repository is planned (`--registry-override`, `--repo-prefix`, base overrides...). */
  load: Omit<LoadOptions, 'manifestFile'> = {},
): Promise<void> {
  const planned = await planRepository({ ...load, manifestFile: repo.manifest, imageInfoFile: join(repo.dir, 'no-image-info.json'), registry: client });
  const images = new Map<string, ManifestImage>();
  for (const r of planned.manifest.repos) r.images.forEach((image) => image.platforms.forEach((p) => images.set(p.id, image)));
  // One layer and one config per repo; each platform's manifest differs by an annotation: one PUT per platform.
  // The layer is a real tar holding /payload.txt, so a diamond's COPY --from of an unchanged sibling works in a one-change build.
  const layer = tarOfOneFile('payload.txt', 'scale layer\n');
  const uploads = new Map<string, Promise<{ layer: string; config: string; configSize: number }>>();
  const upload = async (repoRef: string) => {
    const layerDigest = await client.putBlob(repoRef, layer);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
    return { layer: layerDigest, config: await client.putBlob(repoRef, config), configSize: config.length };
  };
  const queue = [...planned.plan.platforms];
  const digests = new Map<string, string>();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const repoRef = qualifiedRepo(planned.manifest, p.platform.repo);
        let blobs = uploads.get(repoRef);
        if (!blobs) uploads.set(repoRef, (blobs = upload(repoRef)));
        const { layer: layerDigest, config, configSize } = await blobs;
        const manifest = Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: configSize },
            layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
            annotations: { 'org.opencontainers.image.title': p.id },
          }),
        );
        const digest = await client.putManifest(`${repoRef}:${p.tags[0] ?? 'latest'}`, manifest, 'application/vnd.oci.image.manifest.v1+json');
        digests.set(p.id, `${repoRef}@${digest}`);
      }
    }),
  );
  const document = new ImageInfoDocument({ schemaVersion: '2.0', repos: [] });
  for (const p of planned.plan.platforms) {
    document.upsertPlatform(p.platform.repo, images.get(p.id) ?? { sharedTags: [] }, {
      ...platformRecordIdentity(p.platform),
      digest: digests.get(p.id) ?? '',
      buildKey: p.buildKey,
      fromImages: p.fromImages,
      inputs: p.inputs,
      created: '2026-01-01T00:00:00.000Z',
    });
  }
  await writeImageInfoText(imageInfo, document.serialize());
}

/** An uncompressed tar (ustar) holding one regular file: the smallest layer an engine can extract. */
function tarOfOneFile(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string): void => void header.write(value.slice(0, length), offset, 'ascii');
  const octal = (n: number, length: number): string => n.toString(8).padStart(length - 1, '0');
  field(0, 100, name);
  field(100, 8, octal(0o644, 8));
  field(108, 8, octal(0, 8));
  field(116, 8, octal(0, 8));
  field(124, 12, octal(body.length, 12));
  field(136, 12, octal(0, 12));
  field(148, 8, '        ');
  field(156, 1, '0');
  field(257, 8, 'ustar\u000000');
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, '0')}\u0000 `);
  const padding = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, padding, Buffer.alloc(1024)]);
}
