import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  formatPlatform,
  isAttestationEntry,
  normalizePlatform,
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

describe('normalizePlatform', () => {
  const cases: Array<[string, string]> = [
    ['linux/amd64', 'linux/amd64'],
    ['linux/x86_64', 'linux/amd64'],
    ['linux/amd64/v1', 'linux/amd64'],
    ['linux/amd64/v3', 'linux/amd64/v3'],
    ['linux/arm64', 'linux/arm64/v8'],
    ['linux/aarch64', 'linux/arm64/v8'],
    ['linux/arm64/8', 'linux/arm64/v8'],
    ['linux/arm64/v9', 'linux/arm64/v9'],
    ['linux/arm', 'linux/arm/v7'],
    ['linux/arm/7', 'linux/arm/v7'],
    ['linux/arm/v6', 'linux/arm/v6'],
    ['linux/armhf', 'linux/arm/v7'],
    ['linux/armel', 'linux/arm/v6'],
    ['linux/i386', 'linux/386'],
    ['Windows/AMD64', 'windows/amd64'],
    ['macos/arm64', 'darwin/arm64/v8'],
    ['linux/s390x', 'linux/s390x'],
  ];
  for (const [input, expected] of cases) {
    test(`${input} → ${expected}`, () => {
      const parsed = parsePlatform(input);
      assert.ok(parsed);
      assert.equal(formatPlatform(normalizePlatform(parsed)), expected);
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
    assert.deepEqual(offeredPlatforms(index), ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v6', 'linux/arm/v7', 'windows/amd64']);
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
