/**
 * loadManifest on well-formed manifests: defaults, Dockerfile resolution, tag objects, variables,
 * includes, ids, and which fields warn. Each test writes its repository into a fresh temp folder.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { loadManifest } from '../../src/manifest/index.js';
import type { Manifest, ManifestPlatform } from '../../src/manifest/types.js';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

/** Writes files (objects as indented JSON) into a new temp folder; returns its path. */
async function repository(files: Record<string, string | object>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'iw-manifest-'));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return root;
}

function platforms(manifest: Manifest): ManifestPlatform[] {
  return manifest.repos.flatMap((r) => r.images.flatMap((i) => i.platforms));
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1);
  return items[0] as T;
}

/** 1-based line of the first occurrence of needle. */
function lineOf(text: string, needle: string): number {
  const offset = text.indexOf(needle);
  assert.ok(offset >= 0, `${needle} not in the fixture`);
  return text.slice(0, offset).split('\n').length;
}

const FROM = 'FROM scratch\n';

describe('loadManifest', () => {
  it('fills defaults and appends /Dockerfile when the manifest names a folder', async () => {
    const root = await repository({
      'manifest.json': {
        repos: [{ name: 'team/app', images: [{ platforms: [{ dockerfile: 'src/app', os: 'linux', tags: { '1.0': {} } }] }] }],
      },
      'src/app/Dockerfile': FROM,
    });
    const manifest = await loadManifest(path.join(root, 'manifest.json'));
    assert.equal(manifest.file, path.join(root, 'manifest.json'));
    assert.equal(manifest.dir, root);
    assert.equal(manifest.registry, '');
    assert.deepEqual(manifest.variables, {});
    const repo = only(manifest.repos);
    assert.equal(repo.id, undefined);
    assert.deepEqual(repo.location, { file: manifest.file, path: 'repos[0]', line: 3 });
    const image = only(repo.images);
    assert.equal(image.productVersion, undefined);
    assert.deepEqual(image.sharedTags, []);
    const platform = only(image.platforms);
    assert.deepEqual(platform, {
      id: 'team/app:1.0',
      repo: 'team/app',
      imageIndex: 0,
      platformIndex: 0,
      dockerfile: 'src/app/Dockerfile',
      dockerfilePath: path.join(root, 'src/app/Dockerfile'),
      contextDir: path.join(root, 'src/app'),
      os: 'linux',
      osVersion: '',
      architecture: 'amd64',
      buildArgs: {},
      tags: ['1.0'],
      sharedTags: [],
      location: { file: manifest.file, path: 'repos[0].images[0].platforms[0]', line: 8 },
    });
  });

  it('keeps a named Dockerfile as is, its folder being the context; trailing slashes and ./ are normalized', async () => {
    const root = await repository({
      'manifest.json': {
        repos: [
          {
            name: 'team/app',
            images: [
              {
                platforms: [
                  { dockerfile: 'samples/app/Dockerfile.alpine', os: 'linux', tags: { alpine: {} } },
                  { dockerfile: './src/debian/', os: 'linux', tags: { debian: {} } },
                  { dockerfile: '.', os: 'linux', tags: { root: {} } },
                ],
              },
            ],
          },
        ],
      },
      'samples/app/Dockerfile.alpine': FROM,
      'src/debian/Dockerfile': FROM,
      Dockerfile: FROM,
    });
    const [alpine, debian, top] = platforms(await loadManifest(path.join(root, 'manifest.json')));
    assert.equal(alpine?.dockerfile, 'samples/app/Dockerfile.alpine');
    assert.equal(alpine?.contextDir, path.join(root, 'samples/app'));
    assert.equal(debian?.dockerfile, 'src/debian/Dockerfile');
    assert.equal(top?.dockerfile, 'Dockerfile');
    assert.equal(top?.contextDir, root);
  });

  it('reads platform fields, tag objects in manifest order, and ids from the first tag or shared tag', async () => {
    const root = await repository({
      'manifest.json': {
        registry: 'mcr.microsoft.com',
        repos: [
          {
            id: 'runtime',
            name: 'dotnet/runtime',
            mcrTagsMetadataTemplate: 'eng/tags.yml',
            readmes: [{ path: 'README.md', templatePath: 'eng/readme.md' }],
            images: [
              {
                productVersion: '8.0.1',
                sharedTags: { '8.0': {}, '8.0.1': { docType: 'Undocumented' }, latest: { isLocal: true } },
                platforms: [
                  {
                    dockerfile: 'src/arm',
                    dockerfileTemplate: 'eng/Dockerfile.template',
                    os: 'linux',
                    osVersion: 'bookworm-slim',
                    architecture: 'arm',
                    variant: 'v7',
                    buildArgs: { A: 'x', B: 'y' },
                    customBuildLegGroups: [{ name: 'pr-build', type: 'Integral', dependencies: [] }],
                    tags: { '8.0-arm32v7': { documentationGroup: 'g' }, 'arm32v7': {} },
                  },
                  { dockerfile: 'src/arm64', os: 'linux', architecture: 'arm64', variant: 'v8', tags: {} },
                  { dockerfile: 'src/win', os: 'windows', osVersion: 'nanoserver-ltsc2022', variant: '' },
                ],
              },
            ],
          },
        ],
      },
      'src/arm/Dockerfile': FROM,
      'src/arm64/Dockerfile': FROM,
      'src/win/Dockerfile': FROM,
    });
    const warnings: string[] = [];
    const manifest = await loadManifest(path.join(root, 'manifest.json'), { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, [], 'ImageBuilder fields imagewright ignores are accepted silently');
    const image = only(only(manifest.repos).images);
    assert.equal(only(manifest.repos).id, 'runtime');
    assert.equal(image.productVersion, '8.0.1');
    assert.deepEqual(image.sharedTags, ['8.0', '8.0.1', 'latest']);
    const [arm, arm64, win] = image.platforms;
    assert.deepEqual(arm?.tags, ['8.0-arm32v7', 'arm32v7']);
    assert.equal(arm?.id, 'dotnet/runtime:8.0-arm32v7');
    assert.equal(arm?.osVersion, 'bookworm-slim');
    assert.equal(arm?.variant, 'v7');
    assert.deepEqual(arm?.buildArgs, { A: 'x', B: 'y' });
    assert.equal(arm64?.id, 'dotnet/runtime:8.0@linux/arm64/v8');
    assert.deepEqual(arm64?.tags, []);
    assert.equal(win?.id, 'dotnet/runtime:8.0@windows/amd64');
    assert.equal(win?.variant, undefined);
    assert.ok(!('variant' in (win ?? {})));
    assert.equal(arm?.sharedTags, image.sharedTags, 'platforms share the image’s array');
    assert.deepEqual([arm?.platformIndex, arm64?.platformIndex, win?.platformIndex], [0, 1, 2]);
  });

  it('substitutes variables: nested, in any order, with numbers as text, in tags, build args and productVersion', async () => {
    const root = await repository({
      'manifest.json': {
        registry: '127.0.0.1:5000',
        variables: {
          'dotnet|8.0|fixed-tag': '$(dotnet|8.0|product-version)',
          'dotnet|8.0|product-version': '8.0.$(patch)',
          patch: 11,
          'base-url.main': 'https://example.test/$(branch)',
          branch: 'main',
        },
        repos: [
          {
            id: 'runtime-deps',
            name: 'dotnet/runtime-deps',
            images: [{ platforms: [{ dockerfile: 'deps', os: 'linux', tags: { deps: {} } }] }],
          },
          { name: 'tools', images: [] },
          {
            name: 'dotnet/runtime',
            images: [
              {
                productVersion: '$(dotnet|8.0|product-version)',
                sharedTags: { '$(dotnet|8.0|fixed-tag)': {} },
                platforms: [
                  {
                    dockerfile: 'runtime',
                    os: 'linux',
                    buildArgs: { REPO: '$(Repo:runtime-deps)', TOOLS: '$(Repo:tools)', SLASH: '$(Repo:dotnet/runtime)', URL: '$(base-url.main)/x', N: 3 },
                    tags: { '$(dotnet|8.0|fixed-tag)-bookworm-slim-amd64': {} },
                  },
                ],
              },
            ],
          },
        ],
      },
      'deps/Dockerfile': FROM,
      'runtime/Dockerfile': FROM,
    });
    const manifest = await loadManifest(path.join(root, 'manifest.json'));
    assert.deepEqual(manifest.variables, {
      'dotnet|8.0|fixed-tag': '8.0.11',
      'dotnet|8.0|product-version': '8.0.11',
      patch: '11',
      'base-url.main': 'https://example.test/main',
      branch: 'main',
    });
    const runtime = manifest.repos[2]?.images[0];
    assert.equal(runtime?.productVersion, '8.0.11');
    assert.deepEqual(runtime?.sharedTags, ['8.0.11']);
    const platform = only(runtime?.platforms ?? []);
    assert.deepEqual(platform.tags, ['8.0.11-bookworm-slim-amd64']);
    assert.equal(platform.id, 'dotnet/runtime:8.0.11-bookworm-slim-amd64');
    // $(Repo:<id>) is the registry-qualified name, as ImageBuilder's RepoInfo.QualifiedName; a repo without
    // id is known by its name, though a name with '/' cannot be written in ImageBuilder's reference pattern.
    assert.deepEqual(platform.buildArgs, {
      REPO: '127.0.0.1:5000/dotnet/runtime-deps',
      TOOLS: '127.0.0.1:5000/tools',
      SLASH: '$(Repo:dotnet/runtime)',
      URL: 'https://example.test/main/x',
      N: '3',
    });
  });

  it('lets --var overrides win, reach dependent variables, and add variables of their own', async () => {
    const root = await repository({
      'manifest.json': {
        variables: { version: '1.0', tag: 'v$(version)' },
        repos: [
          {
            name: 'team/app',
            images: [{ platforms: [{ dockerfile: 'app', os: 'linux', buildArgs: { EXTRA: '$(extra)' }, tags: { '$(tag)': {} } }] }],
          },
        ],
      },
      'app/Dockerfile': FROM,
    });
    const manifest = await loadManifest(path.join(root, 'manifest.json'), { vars: { version: '2.5', extra: '$(tag)-more' } });
    assert.deepEqual(manifest.variables, { version: '2.5', tag: 'v2.5', extra: 'v2.5-more' });
    const platform = only(platforms(manifest));
    assert.deepEqual(platform.tags, ['v2.5']);
    assert.deepEqual(platform.buildArgs, { EXTRA: 'v2.5-more' });
  });

  it('leaves text that only looks like a reference alone', async () => {
    const root = await repository({
      'manifest.json': {
        repos: [
          {
            name: 'team/app',
            images: [{ platforms: [{ dockerfile: 'app', os: 'linux', buildArgs: { CMD: 'echo $(a/b) $HOME ${X}' }, tags: { t: {} } }] }],
          },
        ],
      },
      'app/Dockerfile': FROM,
    });
    assert.deepEqual(only(platforms(await loadManifest(path.join(root, 'manifest.json')))).buildArgs, { CMD: 'echo $(a/b) $HOME ${X}' });
  });

  it('merges includes: variables shared, same-name repos consolidated, nested includes relative to their file', async () => {
    const root = await repository({
      'manifest.json': {
        registry: 'mcr.microsoft.com',
        includes: ['manifest.versions.json', 'src/debian/manifest.json'],
        repos: [
          {
            id: 'prereqs',
            name: 'dotnet-buildtools/prereqs',
            images: [{ platforms: [{ dockerfile: 'src/alpine', os: 'linux', tags: { 'alpine-$(alpine)': {} } }] }],
          },
        ],
      },
      'manifest.versions.json': { variables: { alpine: '3.20', debian: '12' } },
      'src/debian/manifest.json': {
        includes: ['more/manifest.json'],
        repos: [
          {
            name: 'dotnet-buildtools/prereqs',
            images: [
              {
                platforms: [
                  { dockerfile: 'src/debian/12/amd64', os: 'linux', tags: { 'debian-$(debian)-amd64': {} } },
                  { dockerfile: 'src/debian/12/arm64', os: 'linux', architecture: 'arm64', tags: { 'debian-$(debian)-arm64': {} } },
                ],
              },
            ],
          },
        ],
      },
      'src/debian/more/manifest.json': {
        repos: [
          { name: 'dotnet-buildtools/other', images: [{ platforms: [{ dockerfile: 'src/other', os: 'linux', buildArgs: { R: '$(Repo:prereqs)' }, tags: { o: {} } }] }] },
        ],
      },
      'src/alpine/Dockerfile': FROM,
      'src/debian/12/amd64/Dockerfile': FROM,
      'src/debian/12/arm64/Dockerfile': FROM,
      'src/other/Dockerfile': FROM,
    });
    const manifest = await loadManifest(path.join(root, 'manifest.json'));
    assert.deepEqual(
      manifest.repos.map((r) => [r.name, r.images.length]),
      [
        ['dotnet-buildtools/prereqs', 2],
        ['dotnet-buildtools/other', 1],
      ],
    );
    const all = platforms(manifest);
    assert.deepEqual(
      all.map((p) => [p.id, p.imageIndex, p.platformIndex, p.dockerfile]),
      [
        ['dotnet-buildtools/prereqs:alpine-3.20', 0, 0, 'src/alpine/Dockerfile'],
        ['dotnet-buildtools/prereqs:debian-12-amd64', 1, 0, 'src/debian/12/amd64/Dockerfile'],
        ['dotnet-buildtools/prereqs:debian-12-arm64', 1, 1, 'src/debian/12/arm64/Dockerfile'],
        ['dotnet-buildtools/other:o', 0, 0, 'src/other/Dockerfile'],
      ],
    );
    const debianFile = path.join(root, 'src/debian/manifest.json');
    assert.deepEqual(all[1]?.location, {
      file: debianFile,
      path: 'repos[0].images[0].platforms[0]',
      line: lineOf(await readFile(debianFile, 'utf8'), '"dockerfile": "src/debian/12/amd64"') - 1,
    });
    assert.equal(all[3]?.buildArgs.R, 'mcr.microsoft.com/dotnet-buildtools/prereqs');
    assert.deepEqual(manifest.variables, { alpine: '3.20', debian: '12' });
  });

  it('accepts comments and a byte-order mark, as ImageBuilder’s JSON reader does', async () => {
    const root = await repository({
      'manifest.json':
        '\ufeff{\n  // the app\n  "repos": [ /* one */ { "name": "team/app", "images": [ { "platforms": [\n' +
        '    { "dockerfile": "app", "os": "linux", "tags": { "10": {}, "2": {} } } ] } ] } ]\n}\n',
      'app/Dockerfile': FROM,
    });
    const platform = only(platforms(await loadManifest(path.join(root, 'manifest.json'))));
    assert.deepEqual(platform.tags, ['10', '2']);
    assert.equal(platform.location.line, 4);
  });

  it('keeps tags, shared tags and build args in written order even when names look like numbers', async () => {
    // JavaScript objects list index-like keys ("10", "2") first; the manifest's order must survive.
    const root = await repository({
      'manifest.json':
        '{ "repos": [ { "name": "team/app", "images": [ { "sharedTags": { "latest": {}, "11": {}, "9": {} },\n' +
        '  "platforms": [ { "dockerfile": "app", "os": "linux", "buildArgs": { "Z": "1", "3": "2", "A": "3" },\n' +
        '    "tags": { "10.0-x": {}, "10": {}, "2": {} } } ] } ] } ] }\n',
      'app/Dockerfile': FROM,
    });
    const platform = only(platforms(await loadManifest(path.join(root, 'manifest.json'))));
    assert.deepEqual(platform.sharedTags, ['latest', '11', '9']);
    assert.deepEqual(platform.tags, ['10.0-x', '10', '2']);
    assert.deepEqual(Object.keys(platform.buildArgs).sort(), ['3', 'A', 'Z']);
    assert.equal(platform.id, 'team/app:10.0-x');
  });

  it('reads numbers and booleans where strings belong as their JSON text', async () => {
    const root = await repository({
      'manifest.json':
        '{ "variables": { "python": 3.10, "big": 1e3, "flag": true, "n": 72 },\n' +
        '  "repos": [ { "name": "team/app", "images": [ { "platforms": [ { "dockerfile": "app", "os": "linux",\n' +
        '    "buildArgs": { "PY": "$(python)", "V": 1.50 }, "tags": { "py$(python)": {} } } ] } ] } ] }\n',
      'app/Dockerfile': FROM,
    });
    const manifest = await loadManifest(path.join(root, 'manifest.json'));
    assert.deepEqual(manifest.variables, { python: '3.10', big: '1e3', flag: 'true', n: '72' });
    const platform = only(platforms(manifest));
    assert.deepEqual(platform.buildArgs, { PY: '3.10', V: '1.50' });
    assert.deepEqual(platform.tags, ['py3.10']);
  });

  it('follows symbolic links that stay inside the manifest folder', async () => {
    const root = await repository({
      'manifest.json': {
        repos: [{ name: 'team/app', images: [{ platforms: [{ dockerfile: 'linked', os: 'linux', tags: { t: {} } }] }] }],
      },
      'real/Dockerfile': FROM,
    });
    await symlink(path.join(root, 'real'), path.join(root, 'linked'));
    const platform = only(platforms(await loadManifest(path.join(root, 'manifest.json'))));
    assert.equal(platform.dockerfile, 'linked/Dockerfile');
    assert.equal(platform.contextDir, path.join(root, 'linked'));
  });

  it('warns about unknown fields with file, JSON path and line, and about an include’s own registry', async () => {
    const root = await repository({
      'manifest.json':
        '{\n  "registry": "127.0.0.1:5000",\n  "includes": ["inc.json"],\n  "repos": [{\n    "name": "team/app", "color": "red",\n' +
        '    "images": [{ "platforms": [{ "dockerfile": "app", "os": "linux",\n      "Architecture": "arm64",\n' +
        '      "tags": { "t": { "docType": "Undocumented", "shiny": true } } }] }] }]\n}\n',
      'inc.json': { registry: 'mcr.microsoft.com' },
      'app/Dockerfile': FROM,
    });
    const warnings: string[] = [];
    const manifestFile = path.join(root, 'manifest.json');
    const manifest = await loadManifest(manifestFile, { warn: (m) => warnings.push(m) });
    assert.equal(manifest.registry, '127.0.0.1:5000');
    assert.equal(only(platforms(manifest)).architecture, 'amd64', 'a misspelt field is not read');
    assert.deepEqual(warnings, [
      `${manifestFile}: repos[0].color (line 5): unknown field "color" is ignored`,
      `${manifestFile}: repos[0].images[0].platforms[0].Architecture (line 7): unknown field "Architecture" is ignored (did you mean "architecture"? field names are case-sensitive)`,
      `${manifestFile}: repos[0].images[0].platforms[0].tags.t.shiny (line 8): unknown field "shiny" is ignored`,
      `${path.join(root, 'inc.json')}: registry (line 2): ignored; the top-level manifest's registry "127.0.0.1:5000" applies`,
    ]);
  });

  it('names files relative to the working directory when they are under it', async () => {
    const root = await repository({
      'manifest.json': { includes: ['broken.json'] },
      'broken.json': '{ "repos": 1 }',
    });
    const cwd = process.cwd();
    process.chdir(root);
    try {
      await assert.rejects(loadManifest('manifest.json'), { message: 'broken.json: repos (line 1): must be an array, not a number (1)' });
    } finally {
      process.chdir(cwd);
    }
  });

  it('loads a 1,000-platform manifest quickly', async () => {
    const files: Record<string, string | object> = {};
    const repos = Array.from({ length: 10 }, (_, r) => ({
      id: `r${r}`,
      name: `team/repo${r}`,
      images: Array.from({ length: 25 }, (_, i) => ({
        sharedTags: { [`$(v)-${i}`]: {} },
        platforms: ['amd64', 'arm64', 'arm', 's390x'].map((architecture, p) => {
          files[`src/${r}/${i}/${p}/Dockerfile`] = FROM;
          return { dockerfile: `src/${r}/${i}/${p}`, os: 'linux', architecture, buildArgs: { R: '$(Repo:r0)' }, tags: { [`$(v)-${i}-${p}`]: {} } };
        }),
      })),
    }));
    files['manifest.json'] = { registry: '127.0.0.1:5000', variables: { v: '1.0' }, repos };
    const root = await repository(files);
    const started = performance.now();
    const manifest = await loadManifest(path.join(root, 'manifest.json'));
    const elapsed = performance.now() - started;
    assert.equal(platforms(manifest).length, 1000);
    assert.ok(elapsed < 1500, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('the shipped manifest schema', () => {
  it('is a valid JSON Schema (the loader skips this check at run time)', async () => {
    const schema = JSON.parse(await readFile(new URL('../../schema/manifest.schema.json', import.meta.url), 'utf8')) as object;
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    assert.equal(ajv.validateSchema(schema), true, JSON.stringify(ajv.errors));
    assert.doesNotThrow(() => ajv.compile(schema));
  });
});

describe('loadManifest: --registry-override, --repo-prefix and the base override', () => {
  const files = {
    'manifest.json': {
      registry: 'mcr.microsoft.com',
      repos: [
        {
          id: 'prereqs',
          name: 'dotnet-buildtools/prereqs',
          images: [{ platforms: [{ dockerfile: 'app', os: 'linux', buildArgs: { REPO: '$(Repo:prereqs)' }, tags: { 'app-amd64': {} } }] }],
        },
      ],
    },
    'app/Dockerfile': FROM,
  };

  it('keeps the names the manifest gives, and moves only the location', async () => {
    const root = await repository(files);
    const manifest = await loadManifest(path.join(root, 'manifest.json'), { registryOverride: '127.0.0.1:5000', repoPrefix: 'stage-3/' });
    assert.equal(manifest.registry, 'mcr.microsoft.com');
    assert.deepEqual(manifest.location, { registry: '127.0.0.1:5000', repoPrefix: 'stage-3/' });
    const platform = only(platforms(manifest));
    assert.equal(platform.repo, 'dotnet-buildtools/prereqs');
    assert.equal(platform.id, 'dotnet-buildtools/prereqs:app-amd64');
    assert.equal(platform.buildArgs.REPO, '127.0.0.1:5000/stage-3/dotnet-buildtools/prereqs', '$(Repo:<id>) names the staged repo, as ImageBuilder does');
    const plain = await loadManifest(path.join(root, 'manifest.json'));
    assert.deepEqual(plain.location, { registry: 'mcr.microsoft.com', repoPrefix: '' });
  });

  it("translates ImageBuilder's substitution syntax and wants both options", async () => {
    const root = await repository(files);
    const load = (options: { baseOverrideRegex?: string; baseOverrideSub?: string }) => loadManifest(path.join(root, 'manifest.json'), options);
    const manifest = await load({ baseOverrideRegex: '^(?<host>docker\\.io)/(.*)$', baseOverrideSub: 'mirror.example/${host}/$2' });
    const { pattern, replacement } = manifest.baseOverride ?? assert.fail('no base override');
    assert.equal('docker.io/library/ubuntu:24.04'.replace(pattern, replacement), 'mirror.example/docker.io/library/ubuntu:24.04');
    const whole = await load({ baseOverrideRegex: '^.*$', baseOverrideSub: 'm.example/$0-$$' });
    assert.equal('x:1'.replace(whole.baseOverride!.pattern, whole.baseOverride!.replacement), 'm.example/x:1-$');
    await assert.rejects(load({ baseOverrideRegex: '^' }), /^.*--base-override-regex: needs --base-override-sub too/);
    await assert.rejects(load({ baseOverrideRegex: '(', baseOverrideSub: 'x' }), /--base-override-regex: "\(" is not a valid regular expression/);
  });
});
