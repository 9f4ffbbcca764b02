import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { InputError } from '../../src/errors.js';
import {
  findPlatformRecord,
  ImageInfoDocument,
  osDisplayNames,
  parseImageInfo,
  platformRecordIdentity,
  readImageInfo,
  removePlatformsNotIn,
  serializeImageInfo,
  setImageManifest,
  upsertPlatformRecord,
  writeImageInfo,
  type ImageInfo,
  type PlatformKey,
  type PlatformRecord,
} from '../../src/imageinfo/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sha = (c: string): string => `sha256:${c.repeat(64)}`;
const mcr = 'mcr.microsoft.com/dotnet/runtime-deps';

/**
 * Written the way ImageBuilder (dotnet/docker-tools) writes schema 2.0: its property order, empty
 * lists and defaults left out, layers with sizes, an image only reachable by shared tags.
 */
const imageBuilderFile = `{
  "schemaVersion": "2.0",
  "repos": [
    {
      "repo": "dotnet/aspnet",
      "images": [
        {
          "productVersion": "8.0.11",
          "platforms": [
            {
              "dockerfile": "src/aspnet/8.0/nanoserver-ltsc2022/amd64/Dockerfile",
              "simpleTags": [
                "8.0-nanoserver-ltsc2022"
              ],
              "digest": "mcr.microsoft.com/dotnet/aspnet@${sha('9')}",
              "osType": "Windows",
              "osVersion": "nanoserver-ltsc2022",
              "architecture": "amd64",
              "created": "2024-11-12T17:41:55.5136353Z",
              "commitUrl": "https://github.com/dotnet/dotnet-docker/blob/0123456789abcdef/src/aspnet/8.0/nanoserver-ltsc2022/amd64/Dockerfile"
            }
          ]
        }
      ]
    },
    {
      "repo": "dotnet/runtime-deps",
      "images": [
        {
          "productVersion": "8.0.11",
          "manifest": {
            "digest": "${mcr}@${sha('a')}",
            "syndicatedDigests": [
              "mcr.microsoft.com/dotnet/nightly/runtime-deps@${sha('a')}"
            ],
            "created": "2024-11-12T18:49:54.4438626Z",
            "sharedTags": [
              "8.0.11-bookworm-slim",
              "8.0-bookworm-slim",
              "8.0.11",
              "8.0"
            ]
          },
          "platforms": [
            {
              "dockerfile": "src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile",
              "simpleTags": [
                "8.0-bookworm-slim-amd64",
                "8.0.11-bookworm-slim-amd64"
              ],
              "digest": "${mcr}@${sha('1')}",
              "baseImageDigest": "amd64/debian@${sha('b')}",
              "osType": "Linux",
              "osVersion": "bookworm-slim",
              "architecture": "amd64",
              "created": "2024-11-12T16:08:06.0001893Z",
              "commitUrl": "https://github.com/dotnet/dotnet-docker/blob/0123456789abcdef/src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile",
              "layers": [
                {
                  "digest": "${sha('c')}",
                  "size": 29126484
                }
              ]
            },
            {
              "dockerfile": "src/runtime-deps/8.0/bookworm-slim/arm32v7/Dockerfile",
              "simpleTags": [
                "8.0-bookworm-slim-arm32v7"
              ],
              "digest": "${mcr}@${sha('2')}",
              "osType": "Linux",
              "osVersion": "bookworm-slim",
              "architecture": "arm32",
              "created": "2024-11-12T16:09:30.0009367Z",
              "commitUrl": "https://github.com/dotnet/dotnet-docker/blob/0123456789abcdef/src/runtime-deps/8.0/bookworm-slim/arm32v7/Dockerfile"
            },
            {
              "dockerfile": "src/runtime-deps/8.0/bookworm-slim/arm64v8/Dockerfile",
              "simpleTags": [
                "8.0-bookworm-slim-arm64v8"
              ],
              "digest": "${mcr}@${sha('3')}",
              "osType": "Linux",
              "osVersion": "bookworm-slim",
              "architecture": "arm64",
              "created": "2024-11-12T16:22:47.000993Z",
              "commitUrl": "https://github.com/dotnet/dotnet-docker/blob/0123456789abcdef/src/runtime-deps/8.0/bookworm-slim/arm64v8/Dockerfile",
              "isUnchanged": true
            }
          ]
        },
        {
          "productVersion": "8.0.11",
          "manifest": {
            "digest": "${mcr}@${sha('d')}",
            "created": "2024-11-12T18:49:54.4438626Z",
            "sharedTags": [
              "latest"
            ]
          },
          "platforms": [
            {
              "dockerfile": "src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile",
              "digest": "${mcr}@${sha('1')}",
              "osType": "Linux",
              "osVersion": "bookworm-slim",
              "architecture": "amd64",
              "created": "2024-11-12T16:08:06.0001893Z",
              "commitUrl": "https://github.com/dotnet/dotnet-docker/blob/0123456789abcdef/src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile"
            }
          ]
        }
      ]
    }
  ]
}`;

/** ImageBuilder's 2020 form: schema 1.0, plain layer digests, display-name OS versions, folder paths. */
const imageBuilder2020File = JSON.stringify({
  schemaVersion: '1.0',
  repos: [
    {
      repo: 'dotnet/core/runtime-deps',
      images: [
        {
          productVersion: '3.1.9',
          platforms: [
            {
              dockerfile: '3.1/buster-slim/arm32v7',
              simpleTags: ['3.1-buster-slim-arm32v7'],
              digest: `mcr.microsoft.com/dotnet/core/runtime-deps@${sha('4')}`,
              osType: 'Linux',
              osVersion: 'Debian 10',
              architecture: 'arm32',
              created: '2020-10-13T16:42:44.8680617Z',
              commitUrl: 'https://github.com/dotnet/dotnet-docker/blob/fedcba/3.1/buster-slim/arm32v7/Dockerfile',
              layers: [sha('5'), sha('6')],
            },
            {
              dockerfile: '3.1/alpine3.12/amd64',
              simpleTags: ['3.1-alpine3.12'],
              digest: `mcr.microsoft.com/dotnet/core/runtime-deps@${sha('7')}`,
              osType: 'Linux',
              osVersion: 'Alpine 3.12',
              architecture: 'amd64',
              commitUrl: '',
            },
            {
              dockerfile: '3.1/nanoserver-1809/amd64',
              simpleTags: ['3.1-nanoserver-1809'],
              digest: `mcr.microsoft.com/dotnet/core/runtime-deps@${sha('8')}`,
              osType: 'Windows',
              osVersion: 'Windows Server 2019',
              architecture: 'amd64',
              commitUrl: '',
            },
          ],
        },
      ],
    },
  ],
});

function platform(dockerfile: string, os: string, osVersion: string, architecture: string, variant?: string, tags?: string[]): PlatformKey {
  return { dockerfile, os, osVersion, architecture, variant, ...(tags ? { tags } : {}) };
}

/** The platform key of a platform of the test files' images (product versions 8.0.11 and 3.1.9). */
const v8 = (key: PlatformKey): PlatformKey => ({ ...key, productVersion: '8.0' });
const v31 = (key: PlatformKey): PlatformKey => ({ ...key, productVersion: '3.1.9' });

function record(p: PlatformKey & { tags: string[] }, fields: Partial<PlatformRecord> = {}): PlatformRecord {
  return { ...platformRecordIdentity(p), digest: '', buildKey: `sha256:${p.dockerfile.length}`, ...fields };
}

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'iw-imageinfo-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('reading', () => {
  test('an ImageBuilder-written file reads as is, with absent lists as []', () => {
    const info = parseImageInfo('image-info.json', imageBuilderFile);
    assert.equal(info.schemaVersion, '2.0');
    assert.deepEqual(
      info.repos.map((r) => r.repo),
      ['dotnet/aspnet', 'dotnet/runtime-deps'],
    );
    const shared = info.repos[1]?.images[1]?.platforms[0];
    assert.deepEqual(shared?.simpleTags, []);
    assert.equal(shared?.layers, undefined);
    assert.deepEqual(info.repos[1]?.images[0]?.platforms[0]?.layers, [{ digest: sha('c'), size: 29126484 }]);
    assert.equal(info.repos[1]?.images[0]?.platforms[2]?.isUnchanged, true);
  });

  test('schema 1.0 layers (plain digests) and 2.0 layers without size become {digest, size: 0}', () => {
    const old = parseImageInfo('old.json', imageBuilder2020File);
    assert.equal(old.schemaVersion, '2.0');
    assert.deepEqual(old.repos[0]?.images[0]?.platforms[0]?.layers, [
      { digest: sha('5'), size: 0 },
      { digest: sha('6'), size: 0 },
    ]);
    const noSize = imageBuilderFile.replace('"size": 29126484', '"size": 0').replace(/,\s*"size": 0/, '');
    assert.deepEqual(parseImageInfo('x.json', noSize).repos[1]?.images[0]?.platforms[0]?.layers, [{ digest: sha('c'), size: 0 }]);
  });

  test('a missing file reads as undefined', async () => {
    assert.equal(await readImageInfo(path.join(scratch, 'absent.json')), undefined);
  });

  test('unknown fields are kept', () => {
    const text = imageBuilderFile.replace('"osType": "Windows",', '"osType": "Windows",\n "futureField": {"a": [1, 2]},');
    const info = parseImageInfo('x.json', text);
    assert.deepEqual((info.repos[0]?.images[0]?.platforms[0] as unknown as Record<string, unknown>).futureField, { a: [1, 2] });
  });

  const malformed: [string, string, RegExp][] = [
    ['invalid JSON', '{\n  "schemaVersion": "2.0",\n  "repos": [\n    {"repo": }\n  ]\n}', /^bad\.json: line 4, column 14: invalid JSON: expected a value$/],
    ['an empty file', '', /^bad\.json: line 1, column 1: invalid JSON: expected a value \(unexpected end of file\)$/],
    ['an unsupported schemaVersion', '{\n  "schemaVersion": "3.0",\n  "repos": []\n}', /^bad\.json: schemaVersion \(line 2\): schemaVersion "3\.0" is not supported; expected "2\.0"/],
    ['a missing schemaVersion', '{"repos": []}', /^bad\.json: schemaVersion \(line 1\): schemaVersion is missing; expected "2\.0"$/],
    [
      'a platform without dockerfile',
      imageBuilderFile.replace('"dockerfile": "src/runtime-deps/8.0/bookworm-slim/arm32v7/Dockerfile",', ''),
      /^bad\.json: repos\[1\]\.images\[0\]\.platforms\[1\]\.dockerfile \(line 65\): dockerfile is missing$/,
    ],
    ['layers of the wrong type', imageBuilderFile.replace(/"layers": \[[^\]]*\]/, '"layers": 5'), /^bad\.json: repos\[1\]\.images\[0\]\.platforms\[0\]\.layers \(line 58\): layers must be a list, found number 5$/],
    ['a repo that is not an object', '{"schemaVersion": "2.0", "repos": ["dotnet/aspnet"]}', /^bad\.json: repos\[0\] \(line 1\): expected an object, found string "dotnet\/aspnet"$/],
  ];
  for (const [what, text, message] of malformed) {
    test(`${what} is a one-line InputError naming the file and where`, () => {
      assert.throws(
        () => parseImageInfo('bad.json', text),
        (error: unknown) => {
          assert.ok(error instanceof InputError);
          assert.ok(!error.message.includes('\n'));
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  test('comments, as ImageBuilder tolerates them, are accepted', () => {
    const info = parseImageInfo('x.json', `// produced by hand\n${imageBuilderFile}`);
    assert.equal(info.repos.length, 2);
  });
});

describe('finding records for manifest platforms', () => {
  const info = parseImageInfo('image-info.json', imageBuilderFile);
  const deps = 'dotnet/runtime-deps';

  test('by Dockerfile, OS, osVersion and architecture', () => {
    const found = findPlatformRecord(info, deps, v8(platform('src/runtime-deps/8.0/bookworm-slim/arm64v8/Dockerfile', 'linux', 'bookworm-slim', 'arm64', 'v8')));
    assert.equal(found?.digest, `${mcr}@${sha('3')}`);
    const windows = findPlatformRecord(info, 'dotnet/aspnet', v8(platform('src/aspnet/8.0/nanoserver-ltsc2022/amd64/Dockerfile', 'windows', 'nanoserver-ltsc2022', 'amd64')));
    assert.equal(windows?.osType, 'Windows');
  });

  test('arm with variant v7 matches ImageBuilder’s arm32 record', () => {
    const found = findPlatformRecord(info, deps, v8(platform('src/runtime-deps/8.0/bookworm-slim/arm32v7/Dockerfile', 'linux', 'bookworm-slim', 'arm', 'v7')));
    assert.equal(found?.digest, `${mcr}@${sha('2')}`);
  });

  test('no record when any of repo, OS version, architecture or Dockerfile differs', () => {
    const dockerfile = 'src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile';
    assert.ok(findPlatformRecord(info, deps, v8(platform(dockerfile, 'linux', 'bookworm-slim', 'amd64'))));
    assert.equal(findPlatformRecord(info, 'dotnet/aspnet', v8(platform(dockerfile, 'linux', 'bookworm-slim', 'amd64'))), undefined);
    assert.equal(findPlatformRecord(info, deps, v8(platform(dockerfile, 'linux', 'bookworm', 'amd64'))), undefined);
    assert.equal(findPlatformRecord(info, deps, v8(platform(dockerfile, 'linux', 'bookworm-slim', 'arm64'))), undefined);
    assert.equal(findPlatformRecord(info, deps, v8(platform(dockerfile, 'windows', 'bookworm-slim', 'amd64'))), undefined);
    assert.equal(findPlatformRecord(info, deps, v8(platform('src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile.x', 'linux', 'bookworm-slim', 'amd64'))), undefined);
    assert.equal(findPlatformRecord(undefined, deps, v8(platform(dockerfile, 'linux', 'bookworm-slim', 'amd64'))), undefined);
  });

  test('a Dockerfile in two images: the record whose tag state agrees', () => {
    const dockerfile = 'src/runtime-deps/8.0/bookworm-slim/amd64/Dockerfile';
    const tagged = findPlatformRecord(info, deps, v8(platform(dockerfile, 'linux', 'bookworm-slim', 'amd64', undefined, ['8.0-bookworm-slim-amd64'])));
    assert.deepEqual(tagged?.simpleTags, ['8.0-bookworm-slim-amd64', '8.0.11-bookworm-slim-amd64']);
    const untagged = findPlatformRecord(info, deps, v8(platform(dockerfile, 'linux', 'bookworm-slim', 'amd64', undefined, [])));
    assert.deepEqual(untagged?.simpleTags, []);
  });

  test('2020 records: folder paths, display-name OS versions, arm32', () => {
    const old = parseImageInfo('old.json', imageBuilder2020File);
    const repo = 'dotnet/core/runtime-deps';
    assert.equal(findPlatformRecord(old, repo, v31(platform('3.1/buster-slim/arm32v7/Dockerfile', 'linux', 'buster-slim', 'arm', 'v7')))?.digest.slice(-1), '4');
    assert.equal(findPlatformRecord(old, repo, v31(platform('3.1/alpine3.12/amd64/Dockerfile', 'linux', 'alpine3.12', 'amd64')))?.digest.slice(-1), '7');
    assert.equal(findPlatformRecord(old, repo, v31(platform('3.1/nanoserver-1809/amd64/Dockerfile', 'windows', 'nanoserver-1809', 'amd64')))?.digest.slice(-1), '8');
    assert.equal(findPlatformRecord(old, repo, v31(platform('3.1/buster-slim/arm32v7/Dockerfile', 'linux', 'bullseye-slim', 'arm', 'v7'))), undefined);
  });

  test('imagewright records carry the variant: arm/v6 and arm/v7 are different platforms', () => {
    const dockerfile = 'src/app/Dockerfile';
    let mine: ImageInfo = { schemaVersion: '2.0', repos: [] };
    const v6 = platform(dockerfile, 'linux', 'alpine3.20', 'arm', 'v6', ['arm-v6']);
    mine = upsertPlatformRecord(mine, 'app', { sharedTags: [] }, record({ ...v6, tags: ['arm-v6'] }, { digest: 'v6' }));
    assert.equal(findPlatformRecord(mine, 'app', v6)?.digest, 'v6');
    assert.equal(findPlatformRecord(mine, 'app', platform(dockerfile, 'linux', 'alpine3.20', 'arm', 'v7')), undefined);
    assert.equal(findPlatformRecord(mine, 'app', platform(dockerfile, 'linux', 'alpine3.20', 'arm')), undefined);
  });

  test('a default variant equals none', () => {
    const dockerfile = 'src/app/Dockerfile';
    const plain = platform(dockerfile, 'linux', 'noble', 'arm64', undefined, []);
    const mine = upsertPlatformRecord({ schemaVersion: '2.0', repos: [] }, 'app', { sharedTags: ['1'] }, record({ ...plain, tags: [] }, { digest: 'x' }));
    assert.equal(findPlatformRecord(mine, 'app', platform(dockerfile, 'linux', 'noble', 'arm64', 'v8'))?.digest, 'x');
  });

  test('ImageBuilder display names for manifest OS versions', () => {
    assert.deepEqual(osDisplayNames('linux', 'bookworm-slim'), ['Debian 12']);
    assert.deepEqual(osDisplayNames('linux', 'noble-chiseled'), ['Ubuntu 24.04']);
    assert.deepEqual(osDisplayNames('linux', 'azurelinux3.0-distroless'), ['Azure Linux 3.0']);
    assert.deepEqual(osDisplayNames('linux', 'cbl-mariner2.0'), ['CBL-Mariner 2.0']);
    assert.deepEqual(osDisplayNames('linux', 'alpine3.20'), ['Alpine 3.20']);
    assert.deepEqual(osDisplayNames('windows', 'nanoserver-ltsc2022'), ['Nano Server 2022', 'Windows Server, version ltsc2022']);
    assert.deepEqual(osDisplayNames('windows', 'windowsservercore-ltsc2019'), ['Windows Server Core 2019', 'Windows Server 2019']);
    assert.deepEqual(osDisplayNames('linux', 'plan9'), []);
  });
});

describe('record identity: one record per platform (docs/image-info.md)', () => {
  const dockerfile = 'src/azurelinux/3.0/source-build-test/amd64/Dockerfile';
  const byVersion = (version: string, tags: string[]): PlatformKey & { tags: string[] } => ({
    ...platform(dockerfile, 'linux', 'azurelinux3.0', 'amd64', undefined, tags),
    tags,
    productVersion: version,
  });
  const net8 = byVersion('8.0', ['net8.0-amd64']);
  const net9 = byVersion('9.0', ['net9.0-amd64']);
  const write = (info: ImageInfo, p: PlatformKey & { tags: string[] }, digest: string, others: PlatformKey[] = [p]): ImageInfo =>
    upsertPlatformRecord(info, 'prereqs', { productVersion: p.productVersion, sharedTags: [], platforms: others, complete: true }, record(p, { digest }));
  const empty: ImageInfo = { schemaVersion: '2.0', repos: [] };

  test('one Dockerfile under two product versions: two records, each found by its platform', () => {
    const info = write(write(empty, net8, 'd8'), net9, 'd9');
    assert.equal(info.repos[0]?.images.length, 2);
    assert.equal(findPlatformRecord(info, 'prereqs', net8)?.digest, 'd8');
    assert.equal(findPlatformRecord(info, 'prereqs', net9)?.digest, 'd9');
    // Rewritten in the other order, neither replaces the other.
    const again = write(write(info, net9, 'd9b'), net8, 'd8b');
    assert.deepEqual([findPlatformRecord(again, 'prereqs', net8)?.digest, findPlatformRecord(again, 'prereqs', net9)?.digest], ['d8b', 'd9b']);
  });

  test('product versions agreeing in major.minor are the same, as ImageBuilder decides', () => {
    const info = write(empty, byVersion('8.0.11', ['net8.0-amd64']), 'd8');
    assert.equal(findPlatformRecord(info, 'prereqs', byVersion('8.0.12', ['net8.0-amd64']))?.digest, 'd8');
    assert.equal(findPlatformRecord(info, 'prereqs', byVersion('8.1', ['net8.0-amd64'])), undefined);
  });

  test('one Dockerfile in one image with different build args: told apart by their tags', () => {
    const a = byVersion('8.0', ['a-amd64']);
    const b = byVersion('8.0', ['b-amd64']);
    const info = write(write(empty, a, 'da', [a, b]), b, 'db', [a, b]);
    assert.equal(info.repos[0]?.images[0]?.platforms.length, 2);
    assert.deepEqual([findPlatformRecord(info, 'prereqs', a)?.digest, findPlatformRecord(info, 'prereqs', b)?.digest], ['da', 'db']);
  });

  test('tags all renamed: the platform is new, and its build replaces the stale record', () => {
    const info = write(empty, net8, 'old');
    const renamed = byVersion('8.0', ['net8.0-renamed-amd64']);
    assert.equal(findPlatformRecord(info, 'prereqs', renamed), undefined);
    const rebuilt = write(info, renamed, 'new');
    assert.deepEqual(rebuilt.repos[0]?.images[0]?.platforms.map((p) => p.digest), ['new']);
    // One tag kept: still the platform's record.
    assert.equal(findPlatformRecord(info, 'prereqs', byVersion('8.0', ['net8.0-amd64', 'extra']))?.digest, 'old');
  });

  test('an osVersion change makes the platform new', () => {
    const info = write(empty, net8, 'd8');
    assert.equal(findPlatformRecord(info, 'prereqs', { ...net8, osVersion: 'azurelinux3.1' }), undefined);
  });

  test('the real repository: records of all four .NET versions of one Dockerfile survive one another', () => {
    const versions = ['8.0', '9.0', '10.0', '11.0'].map((v) => byVersion(v, [`azurelinux-3.0-net${v}-source-build-test-amd64`]));
    const info = versions.reduce((acc, p, i) => write(acc, p, `d${i}`), empty);
    assert.deepEqual(versions.map((p) => findPlatformRecord(info, 'prereqs', p)?.digest), ['d0', 'd1', 'd2', 'd3']);
  });
});

describe('writing', () => {
  test('an ImageBuilder-written file is written back byte for byte (plus a trailing newline)', () => {
    assert.equal(serializeImageInfo(parseImageInfo('x.json', imageBuilderFile)), `${imageBuilderFile}\n`);
  });

  test('round trip read → write → read gives the same info, 2020 files included', async () => {
    for (const [name, text] of [
      ['new.json', imageBuilderFile],
      ['old.json', imageBuilder2020File],
    ] as const) {
      const file = path.join(scratch, name);
      await writeFile(file, text);
      const first = await readImageInfo(file);
      assert.ok(first);
      await writeImageInfo(file, first);
      assert.deepEqual(await readImageInfo(file), first);
    }
  });

  test('key order: ImageBuilder’s, then unknown fields, then imagewright’s additions; maps sorted', () => {
    const p = platform('src/a/Dockerfile', 'linux', 'noble', 'arm', 'v7', ['t']);
    const rec = {
      inputs: { platform: 'linux/arm/v7', buildArgs: { B: '2', A: '1' }, contextFiles: { 'z.txt': sha('1'), 'a.txt': sha('2') }, context: sha('3'), dockerfile: sha('4') },
      buildKey: sha('5'),
      extra: 'kept',
      digest: 'r@sha256:x',
      ...platformRecordIdentity({ ...p, tags: ['t'] }),
      fromImages: [{ internal: false, digest: sha('6'), ref: 'alpine:3', instruction: 'FROM' as const, stage: '0' }],
    } as PlatformRecord;
    const info = upsertPlatformRecord({ schemaVersion: '2.0', repos: [] }, 'r', { sharedTags: [] }, rec);
    const written = JSON.parse(serializeImageInfo(info)) as ImageInfo;
    const out = written.repos[0]?.images[0]?.platforms[0] as unknown as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(out), ['dockerfile', 'simpleTags', 'digest', 'osType', 'osVersion', 'architecture', 'extra', 'variant', 'buildKey', 'fromImages', 'inputs']);
    assert.deepEqual(Object.keys(out.inputs ?? {}), ['dockerfile', 'context', 'contextFiles', 'buildArgs', 'platform']);
    assert.deepEqual(Object.keys(out.inputs?.contextFiles ?? {}), ['a.txt', 'z.txt']);
    assert.deepEqual(Object.keys((out.fromImages as unknown as Record<string, unknown>[])[0] ?? {}), ['stage', 'instruction', 'ref', 'digest', 'internal']);
    assert.equal(out.architecture as unknown as string, 'arm32');
    assert.equal(out.osType as unknown as string, 'Linux');
  });

  test('a document updated record by record writes what JSON.stringify writes for the same records', () => {
    const document = new ImageInfoDocument(parseImageInfo('x.json', imageBuilderFile));
    const before = document.serialize();
    assert.equal(before, `${imageBuilderFile}\n`);
    const key = { sharedTags: ['9.0'], productVersion: '9.0.1' };
    for (const arch of ['amd64', 'arm64']) {
      const p = platform(`src/runtime-deps/9.0/noble/${arch}/Dockerfile`, 'linux', 'noble', arch, undefined, [`9.0-${arch}`]);
      assert.equal(document.upsertPlatform('dotnet/runtime-deps', key, { ...platformRecordIdentity({ ...p, tags: [`9.0-${arch}`] }), digest: `r@${sha(arch)}` }), true);
    }
    const p = platform('src/runtime-deps/9.0/noble/amd64/Dockerfile', 'linux', 'noble', 'amd64', undefined, ['9.0-amd64']);
    const same = { ...platformRecordIdentity({ ...p, tags: ['9.0-amd64'] }), digest: `r@${sha('amd64')}` };
    assert.equal(document.upsertPlatform('dotnet/runtime-deps', key, same), false, 'an identical record was counted as a change');
    const text = document.serialize();
    assert.equal(text, serializeImageInfo(document.toInfo()));
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    assert.equal(document.imageWithSharedTags('dotnet/runtime-deps', ['9.0'])?.platforms.length, 2);
  });

  test('images of a sorted file come out in the same order whatever order their platforms finished in', () => {
    // Image "a" holds src/a/amd64 and src/z/arm64; image "m" holds src/m/amd64: sorted by first platform, a before m.
    const key = (tag: string, dockerfiles: string[]) => ({ sharedTags: [tag], platforms: dockerfiles.map((d) => platform(d, 'linux', 'noble', 'amd64', undefined, [d])) });
    const images = { a: key('a', ['src/a/amd64', 'src/z/arm64']), m: key('m', ['src/m/amd64']) };
    const finished: Array<[keyof typeof images, string]> = [
      ['a', 'src/z/arm64'],
      ['m', 'src/m/amd64'],
      ['a', 'src/a/amd64'],
    ];
    const texts = [finished, [...finished].reverse()].map((order) => {
      const document = new ImageInfoDocument({ schemaVersion: '2.0', repos: [] });
      for (const [image, dockerfile] of order) {
        document.upsertPlatform('r', images[image], record({ ...platform(dockerfile, 'linux', 'noble', 'amd64'), tags: [dockerfile] }));
      }
      return document.serialize();
    });
    assert.equal(texts[0], texts[1]);
    assert.deepEqual(
      (JSON.parse(texts[0] ?? '') as ImageInfo).repos[0]?.images.map((i) => i.manifest?.sharedTags),
      [['a'], ['m']],
    );
  });

  test('writes leave no temporary files behind and create the folder', async () => {
    const dir = path.join(scratch, 'out/nested');
    const file = path.join(dir, 'image-info.json');
    await writeImageInfo(file, parseImageInfo('x.json', imageBuilderFile));
    await writeImageInfo(file, { schemaVersion: '2.0', repos: [] });
    assert.deepEqual(await readdir(dir), ['image-info.json']);
    assert.equal(await readFile(file, 'utf8'), '{\n  "schemaVersion": "2.0",\n  "repos": []\n}\n');
  });

  test('a write that fails midway leaves the original intact and no temporary file', async () => {
    const dir = path.join(scratch, 'efbig');
    await mkdir(dir);
    const file = path.join(dir, 'image-info.json');
    const original = '{\n  "schemaVersion": "2.0",\n  "repos": []\n}\n';
    await writeFile(file, original);
    // A file-size limit of 1 KiB makes the write of this 8 KiB file fail after its first kilobyte,
    // which a plain in-place write would leave truncated.
    const script = `
      import { parseImageInfo, writeImageInfo } from ${JSON.stringify(path.resolve(here, '../../src/imageinfo/index.ts'))};
      const info = parseImageInfo('x.json', ${JSON.stringify(imageBuilderFile)});
      try { await writeImageInfo(${JSON.stringify(file)}, info); console.log('written'); }
      catch (e) { console.log(e.message); }`;
    const node = [process.execPath, '--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script];
    // Compile once without the limit, so the loader's own cache writes are not what fails.
    spawnSync(node[0] as string, [...node.slice(1, 3), '-e', 'void 0']);
    const run = spawnSync('bash', ['-c', 'ulimit -f 1; exec "$@"', 'bash', ...node], { encoding: 'utf8' });
    assert.match(run.stdout, /image-info\.json: cannot write image info \(EFBIG\)/);
    assert.equal(await readFile(file, 'utf8'), original);
    assert.deepEqual(await readdir(dir), ['image-info.json']);
  });

  test('a failed rename removes the temporary file', async () => {
    const dir = path.join(scratch, 'blocked');
    await mkdir(path.join(dir, 'image-info.json/occupied'), { recursive: true });
    await assert.rejects(writeImageInfo(path.join(dir, 'image-info.json'), { schemaVersion: '2.0', repos: [] }), /cannot write image info/);
    assert.deepEqual(await readdir(dir), ['image-info.json']);
  });
});

describe('updating', () => {
  const dockerfile = (arch: string): string => `src/runtime-deps/8.0/bookworm-slim/${arch}/Dockerfile`;
  const key = { productVersion: '8.0.12', sharedTags: ['8.0.11-bookworm-slim', '8.0-bookworm-slim', '8.0.11', '8.0'] };

  test('upsert replaces a record whole, and leaves the input untouched', () => {
    const info = parseImageInfo('x.json', imageBuilderFile);
    const before = structuredClone(info);
    const p = platform(dockerfile('amd64'), 'linux', 'bookworm-slim', 'amd64', undefined, ['8.0-bookworm-slim-amd64']);
    const updated = upsertPlatformRecord(info, 'dotnet/runtime-deps', key, record({ ...p, tags: ['8.0-bookworm-slim-amd64'] }, { digest: 'new' }));
    assert.deepEqual(info, before);
    const image = updated.repos[1]?.images[0];
    assert.equal(image?.platforms.length, 3);
    const replaced = image?.platforms.find((r) => r.digest === 'new');
    assert.ok(replaced);
    assert.equal(replaced.layers, undefined, 'fields of the old record do not survive');
    assert.equal(replaced.baseImageDigest, undefined);
    assert.equal(image?.productVersion, '8.0.12');
    assert.equal(image?.manifest?.digest, `${mcr}@${sha('a')}`, 'the index record is left to setImageManifest');
    assert.equal(updated.repos[1]?.images[1]?.platforms[0]?.digest, `${mcr}@${sha('1')}`, 'the shared-tags-only image keeps its record');
  });

  test('upsert replaces a 2020 record (display name, folder path) instead of adding one', () => {
    const old = parseImageInfo('old.json', imageBuilder2020File);
    const p = platform('3.1/buster-slim/arm32v7/Dockerfile', 'linux', 'buster-slim', 'arm', 'v7', ['3.1-buster-slim-arm32v7']);
    const updated = upsertPlatformRecord(old, 'dotnet/core/runtime-deps', { productVersion: '3.1.10', sharedTags: [] }, record({ ...p, tags: p.tags ?? [] }, { digest: 'new' }));
    const platforms = updated.repos[0]?.images[0]?.platforms ?? [];
    assert.equal(platforms.length, 3);
    assert.equal(platforms.filter((r) => r.dockerfile.includes('buster')).map((r) => r.digest).join(), 'new');
  });

  test('a new platform joins the image with the same shared tags; a new image gets an index record without digest', () => {
    const info = parseImageInfo('x.json', imageBuilderFile);
    const s390 = platform(dockerfile('s390x'), 'linux', 'bookworm-slim', 's390x', undefined, []);
    const joined = upsertPlatformRecord(info, 'dotnet/runtime-deps', key, record({ ...s390, tags: [] }));
    assert.equal(joined.repos[1]?.images[0]?.platforms.length, 4);
    const noble = platform('src/runtime-deps/9.0/noble/amd64/Dockerfile', 'linux', 'noble', 'amd64', undefined, []);
    const added = upsertPlatformRecord(info, 'dotnet/runtime-deps', { productVersion: '9.0.0', sharedTags: ['9.0-noble'] }, record({ ...noble, tags: [] }));
    const images = added.repos[1]?.images ?? [];
    assert.equal(images.length, 3);
    assert.deepEqual(images[2]?.manifest, { digest: '', sharedTags: ['9.0-noble'] });
    const written = JSON.parse(serializeImageInfo(added)) as ImageInfo;
    assert.deepEqual(written.repos[1]?.images[2]?.manifest, { sharedTags: ['9.0-noble'] }, 'an unknown index digest is left out, as ImageBuilder does');
  });

  test('with the manifest image’s platforms in the key, a changed set of shared tags still finds the image', () => {
    const info = parseImageInfo('x.json', imageBuilderFile);
    const archs: [string, string, string | undefined][] = [
      ['amd64', 'amd64', undefined],
      ['arm32v7', 'arm', 'v7'],
      ['arm64v8', 'arm64', 'v8'],
      ['s390x', 's390x', undefined],
    ];
    const platforms = archs.map(([folder, arch, variant]) => platform(dockerfile(folder), 'linux', 'bookworm-slim', arch, variant, [`8.0-bookworm-slim-${folder}`]));
    const newKey = { productVersion: '8.0.12', sharedTags: ['8.0.12-bookworm-slim', '8.0-bookworm-slim', '8.0.12', '8.0'], platforms };
    const s390 = platforms[3] as PlatformKey & { tags: string[] };
    const updated = upsertPlatformRecord(info, 'dotnet/runtime-deps', newKey, record(s390));
    assert.equal(updated.repos[1]?.images.length, 2);
    assert.equal(updated.repos[1]?.images[0]?.platforms.length, 4);
  });

  test('the result does not depend on the order of upserts', () => {
    const records = ['b', 'a', 'c'].map((name) => {
      const p = platform(`src/${name}/Dockerfile`, 'linux', 'noble', 'amd64', undefined, [name]);
      return { repo: `repo-${name}`, record: record({ ...p, tags: [name] }) };
    });
    const apply = (order: typeof records): string =>
      serializeImageInfo(order.reduce<ImageInfo>((info, r) => upsertPlatformRecord(info, r.repo, { sharedTags: [] }, r.record), { schemaVersion: '2.0', repos: [] }));
    assert.equal(apply(records), apply([...records].reverse()));
  });

  test('setImageManifest records the index of the image with those shared tags', () => {
    const info = parseImageInfo('x.json', imageBuilderFile);
    const manifest = { digest: `${mcr}@${sha('e')}`, sharedTags: ['latest'], created: '2025-01-01T00:00:00Z' };
    const updated = setImageManifest(info, 'dotnet/runtime-deps', { productVersion: '8.0.11', sharedTags: ['latest'] }, manifest);
    assert.deepEqual(updated.repos[1]?.images[1]?.manifest, manifest);
    assert.equal(updated.repos[1]?.images[0]?.manifest?.digest, `${mcr}@${sha('a')}`);
  });

  test('removePlatformsNotIn drops records, then images and repos left empty', () => {
    const info = parseImageInfo('x.json', imageBuilderFile);
    const kept = removePlatformsNotIn(info, (repo, r) => repo === 'dotnet/runtime-deps' && r.simpleTags.length > 0 && r.architecture !== 'arm32');
    assert.deepEqual(
      kept.repos.map((r) => r.repo),
      ['dotnet/runtime-deps'],
    );
    assert.equal(kept.repos[0]?.images.length, 1);
    assert.deepEqual(
      kept.repos[0]?.images[0]?.platforms.map((r) => r.architecture),
      ['amd64', 'arm64'],
    );
    assert.equal(info.repos.length, 2, 'the input is untouched');
  });
});

describe('schema/image-info.schema.json', () => {
  const validate = new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(path.resolve(here, '../../schema/image-info.schema.json'), 'utf8')) as object);

  test('accepts ImageBuilder files of both schema versions and what imagewright writes', () => {
    const p = platform('src/a/Dockerfile', 'linux', 'noble', 'arm', 'v7', ['t']);
    const ours = upsertPlatformRecord(parseImageInfo('x.json', imageBuilderFile), 'r', { sharedTags: ['1'] }, {
      ...record({ ...p, tags: ['t'] }),
      fromImages: [{ stage: '0', instruction: 'FROM', ref: 'alpine:3', digest: sha('1'), internal: false }],
      inputs: { dockerfile: sha('2'), context: sha('3'), contextFiles: { a: sha('4') }, buildArgs: {}, platform: 'linux/arm/v7' },
    });
    for (const text of [imageBuilderFile, imageBuilder2020File, serializeImageInfo(ours)]) {
      assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
    }
  });

  test('rejects what the reader rejects', () => {
    const bad = imageBuilderFile.replace('"dockerfile": "src/runtime-deps/8.0/bookworm-slim/arm32v7/Dockerfile",', '');
    assert.equal(validate(JSON.parse(bad)), false);
    assert.throws(() => parseImageInfo('bad.json', bad), InputError);
  });
});
