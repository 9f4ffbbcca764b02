/**
 * `matrix --format azure` on the real repository (dotnet/dotnet-buildtools-prereqs-docker, a local
 * clone): one matrix per machine pool, no leg mixing OS types, Windows releases or architectures,
 * and the leg counts docs/benchmarks.md gives. Skipped, saying why, where the clone is absent.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';

const clone = process.env.IMAGEWRIGHT_PREREQS_CLONE ?? '/work/ref/prereqs';

function azureMatrices(stdout: string): Map<string, Record<string, Record<string, string>>> {
  const matrices = new Map<string, Record<string, Record<string, string>>>();
  for (const line of stdout.trim().split('\n')) {
    const match = /^##vso\[task\.setvariable variable=(\w+);isOutput=true\](.*)$/.exec(line);
    if (match?.[1] && match[2]?.startsWith('{')) matrices.set(match[1], JSON.parse(match[2]) as Record<string, Record<string, string>>);
  }
  return matrices;
}

describe('matrix on the real repository', { timeout: 120_000 }, () => {
  it('gives separate Azure matrices for its Windows and Linux amd64/arm64/arm pools, no leg mixing them', async (t) => {
    if (!existsSync(join(clone, 'manifest.json'))) {
      t.skip(`no clone of dotnet-buildtools-prereqs-docker at ${clone} (set IMAGEWRIGHT_PREREQS_CLONE)`);
      return;
    }
    const result = await runCli(['matrix', '--format', 'azure'], { cwd: clone });
    assert.equal(result.code, 0, result.stderr);
    const matrices = azureMatrices(result.stdout);
    const pools = ['linuxAmd64', 'linuxArm32', 'linuxArm64', 'windows1809Amd64', 'windowsLtsc2022Amd64', 'windowsLtsc2025Amd64'];
    for (const pool of pools) {
      const legs = Object.values(matrices.get(pool) ?? {});
      assert.ok(legs.length > 0, `no ${pool} matrix`);
      const kinds = new Set(legs.map((leg) => `${leg.osType}/${leg.osVersion}/${leg.architecture}/${leg.pool}`));
      assert.equal(kinds.size, 1, `${pool} mixes ${[...kinds].join(', ')}`);
      for (const leg of legs) assert.match(leg.osVersions ?? '', /^--os-version \S+/);
    }
    const count = (pool: string): number => Object.keys(matrices.get(pool) ?? {}).length;
    // The figures of docs/benchmarks.md.
    assert.deepEqual(pools.map(count), [65, 8, 18, 2, 1, 1]);
    assert.equal(Object.keys(matrices.get('matrix') ?? {}).length, 95);
  });
});
