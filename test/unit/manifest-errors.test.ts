/**
 * Malformed manifests: each must fail with one InputError whose single-line message names the file,
 * the JSON path and (where it has one) the line of the problem.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError, OptionError } from '../../src/errors.js';
import { loadManifest } from '../../src/manifest/index.js';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

interface Case {
  name: string;
  /** File name → content; objects are written as indented JSON. `manifest.json` is loaded. */
  files: Record<string, string | object>;
  /** Symbolic links to create: link path → target (relative to the temp root, or absolute). */
  links?: Record<string, string>;
  vars?: Record<string, string>;
  /** The file the message must name (relative to the temp root), default `manifest.json`. */
  file?: string;
  /** Exact location text: a JSON path, `line N, column M`, or a --var name. */
  path: string;
  /** The line the message must give: a number, or the line holding this text (+ delta). */
  line?: number | { of: string; delta?: number };
  /** A fragment of the problem description. */
  problem: string | RegExp;
}

const FROM = 'FROM scratch\n';

/** A one-repo manifest whose single platform is `platform`, with Dockerfile `app/Dockerfile`. */
function onePlatform(platform: object, extra: object = {}): Record<string, string | object> {
  return {
    'manifest.json': { ...extra, repos: [{ name: 'team/app', images: [{ platforms: [platform] }] }] },
    'app/Dockerfile': FROM,
  };
}

const P0 = 'repos[0].images[0].platforms[0]';

const cases: Case[] = [
  {
    name: 'invalid JSON: missing comma',
    files: { 'manifest.json': '{\n  "registry": "r.example"\n  "repos": []\n}\n' },
    path: 'line 3, column 3',
    problem: "invalid JSON: expected ','",
  },
  {
    name: 'invalid JSON: trailing comma',
    files: { 'manifest.json': '{\n  "repos": [],\n}\n' },
    path: 'line 3, column 1',
    problem: 'invalid JSON: trailing comma',
  },
  {
    name: 'invalid JSON: empty file',
    files: { 'manifest.json': '' },
    path: 'line 1, column 1',
    problem: 'invalid JSON',
  },
  {
    name: 'the manifest is not an object',
    files: { 'manifest.json': '[1, 2]\n' },
    path: 'line 1',
    problem: 'the manifest must be an object, not an array',
  },
  {
    name: 'repo without name',
    files: { 'manifest.json': { repos: [{ images: [] }] } },
    path: 'repos[0].name',
    line: { of: '"images"', delta: -1 },
    problem: 'required field "name" is missing',
  },
  {
    name: 'platform without os',
    files: onePlatform({ dockerfile: 'app', tags: { t: {} } }),
    path: `${P0}.os`,
    line: { of: '"dockerfile"', delta: -1 },
    problem: 'required field "os" is missing',
  },
  {
    name: 'platform without dockerfile',
    files: onePlatform({ os: 'linux', tags: { t: {} } }),
    path: `${P0}.dockerfile`,
    line: { of: '"os"', delta: -1 },
    problem: 'required field "dockerfile" is missing',
  },
  {
    name: 'tags written as an array',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: ['latest'] }),
    path: `${P0}.tags`,
    line: { of: '"tags"' },
    problem: 'must be an object, not an array',
  },
  {
    name: 'os not one of linux, windows',
    files: onePlatform({ dockerfile: 'app', os: 'Linux', tags: { t: {} } }),
    path: `${P0}.os`,
    line: { of: '"Linux"' },
    problem: 'must be one of "linux", "windows", not "Linux"',
  },
  {
    name: 'unknown architecture',
    files: onePlatform({ dockerfile: 'app', os: 'linux', architecture: 'x86', tags: { t: {} } }),
    path: `${P0}.architecture`,
    line: { of: '"x86"' },
    problem: /must be one of "amd64", "arm", "arm64"/,
  },
  {
    name: 'build arg that is an object',
    files: onePlatform({ dockerfile: 'app', os: 'linux', buildArgs: { OK: 'x', BAD: { nested: 1 } }, tags: { t: {} } }),
    path: `${P0}.buildArgs.BAD`,
    line: { of: '"BAD"' },
    problem: 'must be string, number or boolean, not an object',
  },
  {
    name: 'variable that is null',
    files: { 'manifest.json': { variables: { 'dotnet|8.0|sha': null }, repos: [] } },
    path: 'variables["dotnet|8.0|sha"]',
    line: { of: '"dotnet|8.0|sha"' },
    problem: 'must be string, number or boolean, not null',
  },
  {
    name: 'the same tag on two platforms of a repo',
    files: {
      'manifest.json': {
        repos: [
          {
            name: 'team/app',
            images: [
              { platforms: [{ dockerfile: 'app', os: 'linux', tags: { 'x-1.0': {} } }] },
              { platforms: [{ dockerfile: 'app', os: 'linux', architecture: 'arm64', tags: { 'x-$(v)': {} } }] },
            ],
          },
        ],
        variables: { v: '1.0' },
      },
      'app/Dockerfile': FROM,
    },
    path: 'repos[0].images[1].platforms[0].tags["x-$(v)"]',
    line: { of: '"x-$(v)"' },
    problem: 'duplicate tag "x-1.0" in repo team/app; also at repos[0].images[0].platforms[0].tags["x-1.0"]',
  },
  {
    name: 'a shared tag repeated as a platform tag (after substitution)',
    files: {
      'manifest.json': {
        variables: { major: '8' },
        repos: [{ name: 'team/app', images: [{ sharedTags: { '8': {} }, platforms: [{ dockerfile: 'app', os: 'linux', tags: { '$(major)': {} } }] }] }],
      },
      'app/Dockerfile': FROM,
    },
    path: 'repos[0].images[0].platforms[0].tags["$(major)"]',
    line: { of: '"$(major)": {}' },
    problem: 'duplicate tag "8" in repo team/app; also at repos[0].images[0].sharedTags["8"]',
  },
  {
    name: 'a tag written twice in one object',
    files: {
      'manifest.json':
        '{ "repos": [ { "name": "team/app", "images": [ { "platforms": [ { "dockerfile": "app", "os": "linux",\n' +
        '  "tags": {\n    "a": {},\n    "a": {}\n  } } ] } ] } ] }\n',
      'app/Dockerfile': FROM,
    },
    path: 'repos[0].images[0].platforms[0].tags.a',
    line: 4,
    problem: 'duplicate tag "a" (first at line 3)',
  },
  {
    name: 'a tag that is not a valid Docker tag once substituted',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { 'v$(ver)': {} } }, { variables: { ver: '1 0' } }),
    path: `${P0}.tags["v$(ver)"]`,
    line: { of: '"v$(ver)"' },
    problem: '"v1 0" (from "v$(ver)") is not a valid tag',
  },
  {
    name: 'dockerfile escaping the manifest folder with ..',
    files: onePlatform({ dockerfile: 'app/../../elsewhere', os: 'linux', tags: { t: {} } }),
    path: `${P0}.dockerfile`,
    line: { of: '"app/../../elsewhere"' },
    problem: "points outside the manifest's folder",
  },
  {
    name: 'absolute dockerfile path',
    files: onePlatform({ dockerfile: '/etc/Dockerfile', os: 'linux', tags: { t: {} } }),
    path: `${P0}.dockerfile`,
    line: { of: '"/etc/Dockerfile"' },
    problem: "must be a path relative to the manifest's folder",
  },
  {
    name: 'dockerfile reached through a symbolic link leading outside',
    files: onePlatform({ dockerfile: 'outside-link/sub', os: 'linux', tags: { t: {} } }),
    links: { 'outside-link': tmpdir() },
    path: `${P0}.dockerfile`,
    line: { of: '"outside-link/sub"' },
    problem: "resolves outside the manifest's folder through a symbolic link",
  },
  {
    name: 'Dockerfile that is itself a link to a file outside',
    files: onePlatform({ dockerfile: 'app/Dockerfile.linked', os: 'linux', tags: { t: {} } }),
    links: { 'app/Dockerfile.linked': '/etc/hostname' },
    path: `${P0}.dockerfile`,
    line: { of: '"app/Dockerfile.linked"' },
    problem: 'through a symbolic link',
  },
  {
    name: 'dockerfile that does not exist',
    files: onePlatform({ dockerfile: 'src/missing', os: 'linux', tags: { t: {} } }),
    path: `${P0}.dockerfile`,
    line: { of: '"src/missing"' },
    problem: '"src/missing" does not exist',
  },
  {
    name: 'folder without a Dockerfile',
    files: { ...onePlatform({ dockerfile: 'empty', os: 'linux', tags: { t: {} } }), 'empty/README': 'x' },
    path: `${P0}.dockerfile`,
    line: { of: '"empty"' },
    problem: 'folder "empty" has no file named Dockerfile',
  },
  {
    name: 'unresolved variable in a tag',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { '$(Nope)-amd64': {} } }),
    path: `${P0}.tags["$(Nope)-amd64"]`,
    line: { of: '"$(Nope)-amd64"' },
    problem: 'unresolved variable $(Nope)',
  },
  {
    name: 'unresolved variable inside another variable',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { t: {} } }, { variables: { a: 'x', 'b|c': '$(a)-$(missing)' } }),
    path: 'variables["b|c"]',
    line: { of: '"b|c"' },
    problem: 'unresolved variable $(missing)',
  },
  {
    name: 'variables referencing each other in a cycle',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { t: {} } }, { variables: { a: '$(b)', b: '$(c)', c: '$(a)' } }),
    path: 'variables.a',
    line: { of: '"a": "$(b)"' },
    problem: 'variable cycle: a -> b -> c -> a',
  },
  {
    name: '$(Repo:<id>) naming no repo',
    files: onePlatform({ dockerfile: 'app', os: 'linux', buildArgs: { R: '$(Repo:sdk)' }, tags: { t: {} } }),
    path: `${P0}.buildArgs.R`,
    line: { of: '"R"' },
    problem: '$(Repo:sdk) names no repo id in the manifest',
  },
  {
    name: 'unsupported built-in variable',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { '$(System:DockerfileGitCommitSha)': {} } }),
    path: `${P0}.tags["$(System:DockerfileGitCommitSha)"]`,
    line: { of: 'System:' },
    problem: 'unsupported built-in variable $(System:DockerfileGitCommitSha)',
  },
  {
    name: 'a --var override referencing an unknown variable',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { t: {} } }, { variables: { a: '1' } }),
    vars: { a: '$(b)' },
    file: '--var',
    path: 'a',
    problem: 'unresolved variable $(b)',
  },
  {
    name: 'missing include file',
    files: { 'manifest.json': { includes: ['present.json', 'absent.json'] }, 'present.json': {} },
    path: 'includes[1]',
    line: { of: '"absent.json"' },
    problem: /included file ".*absent\.json" does not exist/,
  },
  {
    name: 'include cycle',
    files: {
      'manifest.json': { includes: ['a.json'] },
      'a.json': { includes: ['sub/b.json'] },
      'sub/b.json': { includes: ['../a.json'] },
    },
    file: 'sub/b.json',
    path: 'includes[0]',
    line: 3,
    problem: /include cycle: .*a\.json -> .*b\.json -> .*a\.json/,
  },
  {
    name: 'an include that is absolute',
    files: { 'manifest.json': { includes: ['/etc/manifest.json'] } },
    path: 'includes[0]',
    line: 3,
    problem: 'include must be a path relative to this file',
  },
  {
    name: 'a problem inside an included file names that file',
    files: {
      'manifest.json': { includes: ['src/debian/manifest.json'] },
      'src/debian/manifest.json': { repos: [{ name: 'team/app', images: [{ platforms: [{ dockerfile: 'app', os: 'linux', variant: 7 }] }] }] },
    },
    file: 'src/debian/manifest.json',
    path: `${P0}.variant`,
    line: { of: '"variant"' },
    problem: 'must be a string, not a number (7)',
  },
  {
    name: 'a variable defined in two files',
    files: { 'manifest.json': { variables: { v: '1' }, includes: ['versions.json'] }, 'versions.json': { variables: { v: '2' } } },
    file: 'versions.json',
    path: 'variables.v',
    line: 3,
    problem: /variable "v" is already defined at .*manifest\.json: variables\.v \(line 3\)/,
  },
  {
    name: 'a repo name Docker would refuse',
    files: { 'manifest.json': { repos: [{ name: 'Team/App', images: [] }] } },
    path: 'repos[0].name',
    line: { of: '"Team/App"' },
    problem: '"Team/App" is not a valid repository name',
  },
  {
    name: 'a registry written as a URL',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { t: {} } }, { registry: 'https://mcr.microsoft.com' }),
    path: 'registry',
    line: 2,
    problem: 'must be a registry host with an optional port',
  },
  {
    name: 'a registry Docker would read as a Docker Hub namespace',
    files: onePlatform({ dockerfile: 'app', os: 'linux', tags: { t: {} } }, { registry: 'myregistry' }),
    path: 'registry',
    line: 2,
    problem: 'would be read as a Docker Hub namespace',
  },
  {
    name: 'no repos anywhere',
    files: { 'manifest.json': { includes: ['empty.json'] }, 'empty.json': {} },
    path: 'repos',
    line: 1,
    problem: 'the manifest and its includes define no repos',
  },
  {
    name: 'a platform with no tags in an image with no shared tags',
    files: onePlatform({ dockerfile: 'app', os: 'linux' }),
    path: `${P0}.tags`,
    line: { of: '"dockerfile"', delta: -1 },
    problem: 'no tags',
  },
  {
    name: 'two untagged platforms of one image for the same platform',
    files: {
      'manifest.json': {
        repos: [
          {
            name: 'team/app',
            images: [
              {
                sharedTags: { '1.0': {} },
                platforms: [
                  { dockerfile: 'app', os: 'linux', architecture: 'arm', variant: 'v7' },
                  { dockerfile: 'app', os: 'linux', architecture: 'arm', variant: 'v7', osVersion: 'other' },
                ],
              },
            ],
          },
        ],
      },
      'app/Dockerfile': FROM,
    },
    path: 'repos[0].images[0].platforms[1]',
    line: { of: '"osVersion"', delta: -5 },
    problem: 'platform id team/app:1.0@linux/arm/v7 is not unique (same as repos[0].images[0].platforms[0]',
  },
  {
    name: 'one repo given two different ids',
    files: {
      'manifest.json': { repos: [{ id: 'a', name: 'team/app', images: [] }], includes: ['more.json'] },
      'more.json': { repos: [{ id: 'b', name: 'team/app', images: [] }] },
    },
    file: 'more.json',
    path: 'repos[0].id',
    line: 4,
    problem: /repo team\/app already has id "a" at .*manifest\.json: repos\[0\]\.id/,
  },
  {
    name: 'two repos sharing one id',
    files: { 'manifest.json': { repos: [{ id: 'a', name: 'team/one', images: [] }, { id: 'a', name: 'team/two', images: [] }] } },
    path: 'repos[1].id',
    line: { of: '"team/two"', delta: -1 },
    problem: 'repo id "a" is already used by repos[0].id',
  },
];

async function repository(testCase: Case): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'iw-manifest-err-'));
  roots.push(root);
  for (const [name, content] of Object.entries(testCase.files)) {
    const file = path.join(root, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  for (const [link, target] of Object.entries(testCase.links ?? {})) {
    await mkdir(path.dirname(path.join(root, link)), { recursive: true });
    await symlink(path.isAbsolute(target) ? target : path.join(root, target), path.join(root, link));
  }
  return root;
}

function expectedLine(testCase: Case, text: string): number | undefined {
  const { line } = testCase;
  if (line === undefined || typeof line === 'number') return line;
  const offset = text.indexOf(line.of);
  assert.ok(offset >= 0, `${line.of} is not in the fixture`);
  return text.slice(0, offset).split('\n').length + (line.delta ?? 0);
}

describe('loadManifest rejects malformed manifests with one precise line', () => {
  it('has a table of at least 15 cases', () => {
    assert.ok(cases.length >= 15);
  });

  for (const testCase of cases) {
    it(testCase.name, async () => {
      const root = await repository(testCase);
      const error = await loadManifest(path.join(root, 'manifest.json'), { vars: testCase.vars ?? {} }).then(
        () => assert.fail('loadManifest accepted the manifest'),
        (err: unknown) => err,
      );
      if (testCase.file === '--var') {
        // A command-line value is no file: the error names the option and the variable.
        assert.ok(error instanceof OptionError, `expected an OptionError, got ${String(error)}`);
        assert.equal(error.exitCode, 2);
        assert.equal(error.option, '--var');
        assert.ok(error.message.startsWith(`--var: ${testCase.path}: `), error.message);
        if (typeof testCase.problem === 'string') assert.ok(error.problem.includes(testCase.problem), error.message);
        else assert.match(error.problem, testCase.problem);
        return;
      }
      assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
      assert.equal(error.exitCode, 2);
      assert.doesNotMatch(error.message, /\n/);
      const fileName = testCase.file ?? 'manifest.json';
      const expectedFile = path.join(root, fileName);
      assert.equal(error.file, expectedFile);
      const content = testCase.files[fileName];
      const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
      const line = expectedLine(testCase, text);
      const location = line === undefined || testCase.path.startsWith('line ') ? testCase.path : testCase.path ? `${testCase.path} (line ${line})` : `line ${line}`;
      assert.equal(error.location, location);
      assert.ok(error.message.startsWith(`${expectedFile}: ${location}: `), error.message);
      if (typeof testCase.problem === 'string') assert.ok(error.problem.includes(testCase.problem), error.message);
      else assert.match(error.problem, testCase.problem);
    });
  }
});
