/**
 * Pushes test images straight through the registry HTTP API: blobs, Docker v2 / OCI image manifests,
 * and indexes (OCI index or Docker manifest list) with several platforms and an attestation entry.
 * Independent of the client under test, so the tests compare against digests computed here.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TargetPlatform } from '../../src/platform.js';
import type { TestRegistry } from './registry.js';

export type ManifestFormat = 'docker' | 'oci';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  inToto: 'application/vnd.in-toto+json',
} as const;

export interface PushedImage {
  /** Digest of the image manifest. */
  digest: string;
  mediaType: string;
  manifest: Buffer;
  configDigest: string;
  config: Buffer;
  layerDigest: string;
  platform: TargetPlatform;
}

export interface PushedIndex {
  digest: string;
  mediaType: string;
  manifest: Buffer;
  /** The per-platform images, in the order given. */
  images: PushedImage[];
  attestationDigest?: string;
}

export interface PushImageOptions {
  format?: ManifestFormat;
  platform?: TargetPlatform;
  labels?: Record<string, string>;
  /** Distinguishes otherwise identical images. */
  layerText?: string;
}

export interface PushIndexOptions {
  format?: ManifestFormat;
  platforms: TargetPlatform[];
  /** Add a BuildKit-style attestation manifest as the index's first entry. */
  attestation?: boolean;
  /** Platform written on the attestation entry; BuildKit writes unknown/unknown. */
  attestationPlatform?: TargetPlatform;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export async function pushBlob(registry: TestRegistry, repository: string, data: Buffer): Promise<string> {
  const digest = sha256(data);
  const started = await send(registry, repository, 'POST', `/v2/${repository}/blobs/uploads/`);
  const location = started.headers.get('location');
  if (started.status !== 202 || !location) throw new Error(`upload start for ${repository}: HTTP ${started.status}`);
  const target = new URL(location, registry.url);
  target.searchParams.set('digest', digest);
  const finished = await send(registry, repository, 'PUT', target.toString(), data, 'application/octet-stream');
  if (finished.status !== 201) throw new Error(`upload of ${digest} to ${repository}: HTTP ${finished.status}`);
  return digest;
}

export async function putManifest(registry: TestRegistry, repository: string, reference: string, body: Buffer, mediaType: string): Promise<string> {
  const response = await send(registry, repository, 'PUT', `/v2/${repository}/manifests/${reference}`, body, mediaType);
  if (response.status !== 201) {
    throw new Error(`PUT manifest ${repository}:${reference}: HTTP ${response.status} ${response.text}`);
  }
  return sha256(body);
}

/** Push one image (config + layer + manifest); tag it when `tag` is given. */
export async function pushImage(registry: TestRegistry, repository: string, tag: string | undefined, options: PushImageOptions = {}): Promise<PushedImage> {
  const format = options.format ?? 'docker';
  const platform = options.platform ?? { os: 'linux', architecture: 'amd64' };
  const layer = Buffer.from(options.layerText ?? `layer of ${repository} for ${platformText(platform)}`);
  const layerDigest = await pushBlob(registry, repository, layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant && { variant: platform.variant }),
      config: { Labels: options.labels ?? {} },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
    }),
  );
  const configDigest = await pushBlob(registry, repository, config);
  const mediaType = format === 'oci' ? MEDIA.ociManifest : MEDIA.dockerManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: format === 'oci' ? MEDIA.ociConfig : MEDIA.dockerConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: format === 'oci' ? MEDIA.ociLayer : MEDIA.dockerLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await putManifest(registry, repository, tag ?? sha256(manifest), manifest, mediaType);
  return { digest, mediaType, manifest, configDigest, config, layerDigest, platform };
}

/** Push one image per platform, then an index naming them, tagged `tag`. */
export async function pushIndex(registry: TestRegistry, repository: string, tag: string, options: PushIndexOptions): Promise<PushedIndex> {
  const format = options.format ?? 'oci';
  const images: PushedImage[] = [];
  for (const platform of options.platforms) images.push(await pushImage(registry, repository, undefined, { format, platform }));
  const entries: object[] = images.map((image) => ({
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.manifest.length,
    platform: { os: image.platform.os, architecture: image.platform.architecture, ...(image.platform.variant && { variant: image.platform.variant }) },
  }));
  let attestationDigest: string | undefined;
  const first = images[0];
  if (options.attestation && first) {
    const attestation = await pushAttestation(registry, repository, first.digest);
    attestationDigest = attestation.digest;
    entries.unshift({
      mediaType: MEDIA.ociManifest,
      digest: attestation.digest,
      size: attestation.size,
      platform: options.attestationPlatform ?? { os: 'unknown', architecture: 'unknown' },
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': first.digest },
    });
  }
  const mediaType = format === 'oci' ? MEDIA.ociIndex : MEDIA.dockerList;
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests: entries }));
  const digest = await putManifest(registry, repository, tag, manifest, mediaType);
  return { digest, mediaType, manifest, images, ...(attestationDigest && { attestationDigest }) };
}

/** A provenance-like attestation manifest as BuildKit attaches it (in-toto layer). */
async function pushAttestation(registry: TestRegistry, repository: string, subject: string): Promise<{ digest: string; size: number }> {
  const statement = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v0.1', subject: [{ digest: { sha256: subject.slice(7) } }] }));
  const statementDigest = await pushBlob(registry, repository, statement);
  const config = Buffer.from('{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}');
  const configDigest = await pushBlob(registry, repository, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: config.length },
      layers: [
        {
          mediaType: MEDIA.inToto,
          digest: statementDigest,
          size: statement.length,
          annotations: { 'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2' },
        },
      ],
    }),
  );
  const digest = await putManifest(registry, repository, sha256(manifest), manifest, MEDIA.ociManifest);
  return { digest, size: manifest.length };
}

function platformText(platform: TargetPlatform): string {
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function send(registry: TestRegistry, repository: string, method: string, pathOrUrl: string, body?: Buffer, contentType?: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  const authorization = registry.authorization(repository);
  if (authorization) headers.Authorization = authorization;
  if (contentType) headers['Content-Type'] = contentType;
  if (body) headers['Content-Length'] = String(body.length);
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${registry.url}${pathOrUrl}`;
  // node:http(s), not fetch: a test registry may serve TLS with its own CA, or listen on a port fetch refuses.
  const send = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method, headers, ...(registry.caFile && { ca: readFileSync(registry.caFile) }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        resolve({ status: response.statusCode ?? 0, headers: answerHeaders, text: Buffer.concat(chunks).toString('utf8') });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(body);
  });
}
