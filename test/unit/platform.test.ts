import assert from 'node:assert/strict';
import { describe, it, test } from 'node:test';
import {
  buildTimeVariables,
  canonicalPlatform,
  formatPlatform,
  manifestTargetPlatform,
  matchIndexEntry,
  windowsOsVersion,
  isAttestationEntry,

  offeredPlatforms,
  parsePlatform,
  pickPlatformEntry,
  samePlatform,
  type IndexEntry,
} from '../../src/platform.js';

const OCI = 'application/vnd.oci.image.manifest.v1+json';
const entry = (n: number, platform: IndexEntry['platform'], annotations?: Record<string, string>): IndexEntry => ({
  mediaType: OCI,
  digest: `sha256:${String(n).repeat(64)}`,
  ...(platform && { platform }),
  ...(annotations && { annotations }),
});

describe('canonicalPlatform (containerd normalization)', () => {
  const cases: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/arm64', 'linux/arm64'],
    ['linux/arm64/v8', 'linux/arm64'],
    ['linux/aarch64', 'linux/arm64'],
    ['linux/arm64/8', 'linux/arm64'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['Windows/AMD64', 'windows/amd64'],
    ['macos/arm64', 'darwin/arm64'],
    ['linux/s390x', 'linux/s390x'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => {
      const parsed = parsePlatform(input);
      assert.ok(parsed);
      assert.equal(formatPlatform(canonicalPlatform(parsed)), expected);
    });
  }
});

describe('parsePlatform / formatPlatform', () => {
  test('round-trips two and three parts', () => {
    assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
    assert.equal(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
  });
  test('rejects other shapes', () => {
    for (const text of ['linux', 'linux/', '/amd64', 'a/b/c/d', '']) assert.equal(parsePlatform(text), undefined, text);
  });
});

describe('pickPlatformEntry', () => {
  const attestation = entry(1, { os: 'linux', architecture: 'amd64' }, { 'vnd.docker.reference.type': 'attestation-manifest' });
  const unknown = entry(2, { os: 'unknown', architecture: 'unknown' });
  const amd64 = entry(3, { os: 'linux', architecture: 'amd64' });
  const arm64 = entry(4, { os: 'linux', architecture: 'arm64', variant: 'v8' });
  const armv7 = entry(5, { os: 'linux', architecture: 'arm', variant: 'v7' });
  const armv6 = entry(6, { os: 'linux', architecture: 'arm', variant: 'v6' });
  const windows = entry(7, { os: 'windows', architecture: 'amd64', 'os.version': '10.0.20348.1' });
  const platformless = entry(8, undefined);
  const index = [attestation, unknown, platformless, amd64, arm64, armv6, armv7, windows];

  test('skips attestation entries, by annotation or by unknown/unknown platform', () => {
    assert.equal(isAttestationEntry(attestation), true);
    assert.equal(isAttestationEntry(unknown), true);
    assert.equal(isAttestationEntry(amd64), false);
    assert.equal(pickPlatformEntry(index, { os: 'linux', architecture: 'amd64' }), amd64);
    assert.equal(pickPlatformEntry(index, { os: 'unknown', architecture: 'unknown' }), undefined);
  });

  test('matches arm64 with and without the v8 variant, and aarch64', () => {
    assert.equal(pickPlatformEntry(index, { os: 'linux', architecture: 'arm64' }), arm64);
    assert.equal(pickPlatformEntry(index, { os: 'linux', architecture: 'aarch64' }), arm64);
    assert.equal(pickPlatformEntry([entry(9, { os: 'linux', architecture: 'arm64' })], { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest, entry(9, undefined).digest);
  });

  test('tells arm variants apart; arm without a variant is v7', () => {
    assert.equal(pickPlatformEntry(index, { os: 'linux', architecture: 'arm' }), armv7);
    assert.equal(pickPlatformEntry(index, { os: 'linux', architecture: 'arm', variant: 'v6' }), armv6);
    assert.equal(pickPlatformEntry([armv6], { os: 'linux', architecture: 'arm' }), undefined);
  });

  test('matches on os as well as architecture', () => {
    assert.equal(pickPlatformEntry(index, { os: 'windows', architecture: 'amd64' }), windows);
    assert.equal(pickPlatformEntry([windows], { os: 'linux', architecture: 'amd64' }), undefined);
  });

  test('lists the offered platforms without attestations', () => {
    assert.deepEqual(offeredPlatforms(index), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'linux/arm/v7', 'windows(10.0.20348.1)/amd64']);
  });
});

describe('one platform grammar', () => {
  test('formatPlatform leaves out an empty variant and parsePlatform reads its output back', () => {
    assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64', variant: '' }), 'linux/amd64');
    assert.deepEqual(parsePlatform(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' })), { os: 'linux', architecture: 'arm', variant: 'v7' });
  });

  test('samePlatform compares after normalization', () => {
    assert.equal(samePlatform({ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }), true);
    assert.equal(samePlatform({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm' }), false);
  });
});

// ---- realistic indexes ----------------------------------------------------------------------

const digestOf = (seed: string): string => `sha256:${Buffer.from(seed).toString('hex').padEnd(64, '0').slice(0, 64)}`;

/** A multi-arch Linux index as Docker Hub serves busybox: Docker media types, no os.version, BuildKit attestations. */
const linuxIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.index.v1+json',
  manifests: [
    { mediaType: OCI, digest: digestOf('amd64'), size: 610, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: OCI, digest: digestOf('arm-v5'), size: 610, platform: { architecture: 'arm', os: 'linux', variant: 'v5' } },
    { mediaType: OCI, digest: digestOf('arm-v6'), size: 610, platform: { architecture: 'arm', os: 'linux', variant: 'v6' } },
    { mediaType: OCI, digest: digestOf('arm-v7'), size: 610, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
    { mediaType: OCI, digest: digestOf('arm64'), size: 610, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    { mediaType: OCI, digest: digestOf('386'), size: 610, platform: { architecture: '386', os: 'linux' } },
    { mediaType: OCI, digest: digestOf('ppc64le'), size: 610, platform: { architecture: 'ppc64le', os: 'linux' } },
    { mediaType: OCI, digest: digestOf('riscv64'), size: 610, platform: { architecture: 'riscv64', os: 'linux' } },
    { mediaType: OCI, digest: digestOf('s390x'), size: 610, platform: { architecture: 's390x', os: 'linux' } },
    {
      mediaType: OCI,
      digest: digestOf('att-amd64'),
      size: 839,
      annotations: { 'vnd.docker.reference.digest': digestOf('amd64'), 'vnd.docker.reference.type': 'attestation-manifest' },
      platform: { architecture: 'unknown', os: 'unknown' },
    },
  ] satisfies IndexEntry[],
};

/** A multi-OS index as mcr.microsoft.com serves .NET images: Linux entries and three Windows Server releases. */
const windowsIndex = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
  manifests: [
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf('l-amd64'), size: 1582, platform: { architecture: 'amd64', os: 'linux' } },
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf('l-arm64'), size: 1582, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf('w-1809'), size: 1899, platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.6893' } },
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf('w-2022'), size: 1899, platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.20348.3207' } },
    { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', digest: digestOf('w-2025'), size: 1899, platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.26100.3194' } },
  ] satisfies IndexEntry[],
};

describe('Windows index selection by os.version', () => {
  const windows = (osVersion: string) => manifestTargetPlatform({ os: 'windows', architecture: 'amd64', osVersion });

  it('maps release names, with or without the image family, and the manifest osVersions the real repository uses', () => {
    const cases: Array<[string, string | undefined]> = [
      ['ltsc2019', '10.0.17763'],
      ['1809', '10.0.17763'],
      ['nanoserver-1809', '10.0.17763'],
      ['windowsservercore-ltsc2019', '10.0.17763'],
      ['ltsc2022', '10.0.20348'],
      ['windowsservercore-ltsc2022', '10.0.20348'],
      ['nanoserver-ltsc2022', '10.0.20348'],
      ['ltsc2025', '10.0.26100'],
      ['windowsservercore-ltsc2025', '10.0.26100'],
      ['10.0.20348', '10.0.20348'],
      ['10.0.20348.3207', '10.0.20348.3207'],
      ['bookworm', undefined],
      ['', undefined],
    ];
    for (const [osVersion, build] of cases) assert.equal(windowsOsVersion(osVersion), build, osVersion);
  });

  it('picks the entry of the platform\'s release from an index with three', () => {
    const pick = (osVersion: string) => pickPlatformEntry(windowsIndex.manifests, windows(osVersion))?.digest;
    assert.equal(pick('windowsservercore-ltsc2019'), digestOf('w-1809'));
    assert.equal(pick('nanoserver-1809'), digestOf('w-1809'));
    assert.equal(pick('windowsservercore-ltsc2022'), digestOf('w-2022'));
    assert.equal(pick('ltsc2025'), digestOf('w-2025'));
    // A revision names exactly that revision.
    assert.equal(pick('10.0.20348.3207'), digestOf('w-2022'));
    assert.equal(pick('10.0.20348.9999'), undefined);
  });

  it('refuses a release the index lacks, naming what it offers, instead of taking the first Windows entry', () => {
    const match = matchIndexEntry(windowsIndex.manifests, windows('ltsc2016'));
    assert.equal(match.entry, undefined);
    assert.match(match.problem ?? '', /no entry has os\.version 10\.0\.14393; the index offers .*windows\(10\.0\.17763\.6893\)\/amd64, windows\(10\.0\.20348\.3207\)\/amd64/);
  });

  it('refuses to guess when the platform names no release and the entries differ by os.version', () => {
    const match = matchIndexEntry(windowsIndex.manifests, windows('servercore'));
    assert.equal(match.entry, undefined);
    assert.match(match.problem ?? '', /differ by os\.version .* names no Windows release/);
  });

  it('matches an entry without os.version only when no entry of that platform names one', () => {
    const unversioned = { mediaType: OCI, digest: digestOf('w-any'), platform: { os: 'windows', architecture: 'amd64' } };
    // The only Windows entry, and it names no release: it is the image, whatever the release.
    assert.equal(pickPlatformEntry([unversioned], windows('ltsc2022'))?.digest, digestOf('w-any'));
    // Next to versioned entries it never stands in for a release the index lacks...
    assert.equal(pickPlatformEntry([...windowsIndex.manifests, unversioned], windows('ltsc2016')), undefined);
    // ...nor wins over the entry of the release.
    assert.equal(pickPlatformEntry([unversioned, ...windowsIndex.manifests], windows('ltsc2022'))?.digest, digestOf('w-2022'));
  });

  it('keeps Linux selection as it was in a multi-OS index', () => {
    assert.equal(pickPlatformEntry(windowsIndex.manifests, { os: 'linux', architecture: 'amd64' })?.digest, digestOf('l-amd64'));
    assert.equal(pickPlatformEntry(windowsIndex.manifests, { os: 'linux', architecture: 'arm64' })?.digest, digestOf('l-arm64'));
  });

  it('formats and parses a platform with its release the containerd way', () => {
    assert.equal(formatPlatform(windows('ltsc2022')), 'windows(10.0.20348)/amd64');
    assert.deepEqual(parsePlatform('windows(10.0.20348)/amd64'), { os: 'windows', architecture: 'amd64', ociOsVersion: '10.0.20348' });
    assert.equal(parsePlatform('windows(10.0/amd64'), undefined);
    // Linux platforms carry no release, whatever their osVersion says.
    assert.equal(formatPlatform(manifestTargetPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8', osVersion: 'noble' })), 'linux/arm64');
  });
});

describe('multi-arch Linux index', () => {
  const pick = (text: string) => pickPlatformEntry(linuxIndex.manifests, parsePlatform(text) ?? { os: '?', architecture: '?' })?.digest;

  it('arm64 and arm64/v8 pick the same entry; arm is arm/v7; variants stay apart', () => {
    assert.equal(pick('linux/arm64'), digestOf('arm64'));
    assert.equal(pick('linux/arm64/v8'), digestOf('arm64'));
    assert.equal(pick('linux/arm'), digestOf('arm-v7'));
    assert.equal(pick('linux/arm/v7'), digestOf('arm-v7'));
    assert.equal(pick('linux/arm/v5'), digestOf('arm-v5'));
    assert.equal(pick('linux/riscv64'), digestOf('riscv64'));
    assert.equal(pick('linux/s390x'), digestOf('s390x'));
    assert.equal(pick('linux/arm64/v9'), undefined);
  });

  it('names what the index offers when it lacks the platform, attestations left out', () => {
    const match = matchIndexEntry(linuxIndex.manifests.slice(0, 1), { os: 'linux', architecture: 'arm64' });
    assert.equal(match.problem, 'the index offers linux/amd64');
  });
});

describe('buildTimeVariables', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['linux/amd64', { TARGETPLATFORM: 'linux/amd64', TARGETOS: 'linux', TARGETARCH: 'amd64', TARGETVARIANT: '' }],
    ['linux/arm64', { TARGETPLATFORM: 'linux/arm64', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '' }],
    ['linux/arm64/v8', { TARGETPLATFORM: 'linux/arm64', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '' }],
    ['linux/arm', { TARGETPLATFORM: 'linux/arm/v7', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' }],
    ['linux/riscv64', { TARGETPLATFORM: 'linux/riscv64', TARGETOS: 'linux', TARGETARCH: 'riscv64', TARGETVARIANT: '' }],
    ['windows(10.0.20348)/amd64', { TARGETPLATFORM: 'windows/amd64', TARGETOS: 'windows', TARGETARCH: 'amd64', TARGETVARIANT: '' }],
  ];
  for (const [target, expected] of cases) {
    it(`${target} built on linux/arm64/v8`, () => {
      const variables = buildTimeVariables(parsePlatform(target) ?? { os: '?', architecture: '?' }, { os: 'linux', architecture: 'arm64', variant: 'v8' });
      assert.deepEqual(variables, { ...expected, BUILDPLATFORM: 'linux/arm64', BUILDOS: 'linux', BUILDARCH: 'arm64', BUILDVARIANT: '' });
    });
  }
});
