/**
 * The issue's bad-input table, through the real CLI: every malformed manifest, Dockerfile, option or
 * image-info file gives exit code 2 and exactly one stderr line `imagewright: error: <file>: <location>:
 * <problem>`, prints nothing on stdout, and leaves the folder exactly as it was (no image-info, no
 * lock, no logs). `build` cases run with an engine that cannot be reached and a private registry, so
 * they also show that input is checked before anything talks to an engine or pushes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

/** Written into every fixture where a registry host belongs. */
const REG = '@REGISTRY@';

type Files = Record<string, string | object>;

interface Location {
  /** A JSON path, shown as `path (line N)` when a line is given too. */
  path?: string;
  /** A line number, or the line of the first occurrence of `of` (+ delta) in the case's `file`. */
  line?: number | { of: string; delta?: number };
}

interface Case {
  name: string;
  files: Files;
  /** Command line after `imagewright`, run in the fixture's folder. */
  args: string[];
  /** The file the message must name, exactly as shown. */
  file: string;
  /** What must follow the file name: a location, or (for an option) the offending value. */
  at: Location | string;
  problem: RegExp;
  /** A known gap, reported rather than failed. */
  todo?: string;
}

const DOCKERFILE = 'FROM scratch\n';

/** A manifest with one repo `team/app`, one platform per entry. */
function manifest(platforms: object[], extra: object = {}): object {
  return { registry: REG, ...extra, repos: [{ name: 'team/app', images: platforms.map((p) => ({ platforms: [p] })) }] };
}

function platform(dockerfile = 'app', tags: string[] = ['1'], extra: object = {}): object {
  return { dockerfile, os: 'linux', osVersion: 'bookworm', tags: Object.fromEntries(tags.map((t) => [t, {}])), ...extra };
}

/** The usual fixture: one platform building app/Dockerfile with `dockerfile` as its text. */
function withDockerfile(dockerfile: string): Files {
  return { 'manifest.json': manifest([platform()]), 'app/Dockerfile': dockerfile };
}

const P0 = 'repos[0].images[0].platforms[0]';
const IMAGE_INFO = 'image-info.json';
const PLAN = ['plan', '--image-info', IMAGE_INFO];
const BUILD = ['build', '--push', '--image-info', IMAGE_INFO];

const cases: Case[] = [
  // ---------------------------------------------------------------- manifests
  {
    name: 'invalid JSON in the manifest',
    files: { 'manifest.json': '{\n  "registry": "@REGISTRY@"\n  "repos": []\n}\n' },
    args: ['graph'],
    file: 'manifest.json',
    at: 'line 3, column 3',
    problem: /invalid JSON: expected ','/,
  },
  {
    name: 'a platform without the required os',
    files: { 'manifest.json': manifest([{ dockerfile: 'app', tags: { '1': {} } }]), 'app/Dockerfile': DOCKERFILE },
    args: PLAN,
    file: 'manifest.json',
    at: { path: `${P0}.os`, line: { of: '"dockerfile"', delta: -1 } },
    problem: /required field "os" is missing/,
  },
  {
    name: 'tags written as a list (wrong type)',
    files: { 'manifest.json': manifest([{ dockerfile: 'app', os: 'linux', tags: ['1'] }]), 'app/Dockerfile': DOCKERFILE },
    args: BUILD,
    file: 'manifest.json',
    at: { path: `${P0}.tags`, line: { of: '"tags"' } },
    problem: /must be an object, not an array/,
  },
  {
    name: 'a build arg that is an object (wrong type)',
    files: { 'manifest.json': manifest([platform('app', ['1'], { buildArgs: { BAD: { nested: true } } })]), 'app/Dockerfile': DOCKERFILE },
    args: ['graph'],
    file: 'manifest.json',
    at: { path: `${P0}.buildArgs.BAD`, line: { of: '"BAD"' } },
    problem: /must be string, number or boolean, not an object/,
  },
  {
    name: 'the same tag twice in a repo',
    files: { 'manifest.json': manifest([platform('app', ['1']), platform('app', ['1'], { architecture: 'arm64' })]), 'app/Dockerfile': DOCKERFILE },
    args: PLAN,
    file: 'manifest.json',
    at: { path: 'repos[0].images[1].platforms[0].tags["1"]', line: { of: '"architecture": "arm64"', delta: -2 } },
    problem: /duplicate tag "1" in repo team\/app; also at repos\[0\]\.images\[0\]\.platforms\[0\]\.tags\["1"\]/,
  },
  {
    name: "a dockerfile path escaping the manifest's folder",
    files: { 'manifest.json': manifest([platform('app/../../elsewhere')]), 'app/Dockerfile': DOCKERFILE },
    args: BUILD,
    file: 'manifest.json',
    at: { path: `${P0}.dockerfile`, line: { of: '"app/../../elsewhere"' } },
    problem: /points outside the manifest's folder/,
  },
  {
    name: 'a dockerfile folder without a Dockerfile',
    files: { 'manifest.json': manifest([platform('app')]), 'app/README': 'no Dockerfile here\n' },
    args: ['graph'],
    file: 'manifest.json',
    at: { path: `${P0}.dockerfile`, line: { of: '"app"' } },
    problem: /folder "app" has no file named Dockerfile/,
  },
  {
    name: 'a dockerfile that does not exist',
    files: { 'manifest.json': manifest([platform('app/Dockerfile.missing')]), 'app/Dockerfile': DOCKERFILE },
    args: PLAN,
    file: 'manifest.json',
    at: { path: `${P0}.dockerfile`, line: { of: '"app/Dockerfile.missing"' } },
    problem: /"app\/Dockerfile.missing" does not exist/,
  },
  {
    name: 'an unresolved variable',
    files: { 'manifest.json': manifest([platform('app', ['$(Version)-amd64'])]), 'app/Dockerfile': DOCKERFILE },
    args: PLAN,
    file: 'manifest.json',
    at: { path: `${P0}.tags["$(Version)-amd64"]`, line: { of: '"$(Version)-amd64"' } },
    problem: /unresolved variable \$\(Version\)/,
  },
  {
    name: 'a missing include',
    files: { 'manifest.json': { ...manifest([platform()]), includes: ['versions.json'] }, 'app/Dockerfile': DOCKERFILE },
    args: ['graph'],
    file: 'manifest.json',
    at: { path: 'includes[0]', line: { of: '"versions.json"' } },
    problem: /included file "versions\.json" does not exist/,
  },
  {
    name: 'an include cycle',
    files: {
      'manifest.json': { ...manifest([platform()]), includes: ['a.json'] },
      'a.json': { includes: ['sub/b.json'] },
      'sub/b.json': { includes: ['../a.json'] },
      'app/Dockerfile': DOCKERFILE,
    },
    args: BUILD,
    file: 'sub/b.json',
    at: { path: 'includes[0]', line: { of: '"../a.json"' } },
    problem: /include cycle: a\.json -> sub\/b\.json -> a\.json/,
  },
  {
    name: 'a --var override naming an unknown variable',
    files: { 'manifest.json': manifest([platform('app', ['$(v)'])], { variables: { v: '1' } }), 'app/Dockerfile': DOCKERFILE },
    args: ['graph', '--var', 'v=$(nope)'],
    file: '--var',
    at: 'v',
    problem: /unresolved variable \$\(nope\)/,
  },
  {
    name: 'a --var without =',
    files: withDockerfile(DOCKERFILE),
    args: ['plan', '--var', 'BaseRegistry', '--image-info', IMAGE_INFO],
    file: '--var',
    at: '',
    problem: /"BaseRegistry" must be name=value/,
  },
  {
    name: 'a --repo-prefix Docker would refuse',
    files: withDockerfile(DOCKERFILE),
    args: [...BUILD, '--repo-prefix', 'Staging/'],
    file: '--repo-prefix',
    at: '',
    problem: /"Staging\/" is not a valid repository path prefix/,
  },
  {
    name: 'a --registry-override written as a URL',
    files: withDockerfile(DOCKERFILE),
    args: ['graph', '--registry-override', 'https://127.0.0.1:5000'],
    file: '--registry-override',
    at: '',
    problem: /must be a registry host with an optional port.*"https:\/\/127\.0\.0\.1:5000"/,
  },
  {
    name: 'a dependency cycle between images',
    files: {
      'manifest.json': {
        registry: REG,
        repos: [
          { name: 'team/a', images: [{ platforms: [platform('a')] }] },
          { name: 'team/b', images: [{ platforms: [platform('b')] }] },
        ],
      },
      'a/Dockerfile': `FROM ${REG}/team/b:1\n`,
      'b/Dockerfile': `FROM alpine AS tools\nFROM ${REG}/team/a:1\n`,
    },
    args: ['graph'],
    file: 'b/Dockerfile',
    at: { line: 2 },
    problem: /dependency cycle between images: team\/a:1 → team\/b:1 → team\/a:1/,
  },
  {
    name: 'a read of an internal multi-arch image that lacks the platform',
    files: {
      'manifest.json': {
        registry: REG,
        repos: [
          { name: 'team/base', images: [{ sharedTags: { '1': {} }, platforms: [platform('base', [])] }] },
          { name: 'team/app', images: [{ platforms: [platform('app', ['1'], { architecture: 'arm64' })] }] },
        ],
      },
      'base/Dockerfile': DOCKERFILE,
      'app/Dockerfile': `FROM alpine\nCOPY --from=${REG}/team/base:1 /a /a\n`,
    },
    args: PLAN,
    file: 'app/Dockerfile',
    at: { line: 2 },
    problem: /names the multi-arch image .*team\/base:1, which has no linux\/arm64 platform \(it has linux\/amd64\)/,
  },
  // ---------------------------------------------------------------- Dockerfiles
  {
    name: 'a Dockerfile without FROM',
    files: withDockerfile('# just a comment\nARG X=1\n'),
    args: ['graph'],
    file: 'app/Dockerfile',
    at: { line: 1 },
    problem: /no FROM instruction/,
  },
  {
    name: 'an instruction before the first FROM',
    files: withDockerfile('ARG BASE=alpine\n\nRUN echo hi\nFROM $BASE\n'),
    args: BUILD,
    file: 'app/Dockerfile',
    at: { line: 3 },
    problem: /RUN comes before the first FROM/,
  },
  {
    name: 'an unterminated ${',
    files: withDockerfile('ARG TAG=3.20\nFROM alpine:${TAG\n'),
    args: PLAN,
    file: 'app/Dockerfile',
    at: { line: 2 },
    problem: /missing '}'/,
  },
  {
    name: 'FROM an ARG that is empty',
    files: withDockerfile('ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN true\n'),
    args: BUILD,
    file: 'app/Dockerfile',
    at: { line: 2 },
    problem: /empty after substitution.*ARG BASE_IMAGE has no default and no build arg sets it/,
  },
  {
    name: 'an invalid image reference',
    files: withDockerfile('FROM alpine AS build\nFROM Alpine:3.20\n'),
    args: ['graph'],
    file: 'app/Dockerfile',
    at: { line: 2 },
    problem: /"Alpine:3\.20" is not a valid image reference/,
  },
  {
    name: 'COPY --from a later stage',
    files: withDockerfile('FROM alpine AS first\nCOPY --from=second /a /b\nFROM alpine AS second\nCOPY --from=first /b /c\n'),
    args: BUILD,
    file: 'app/Dockerfile',
    at: { line: 2 },
    problem: /COPY --from=second: stage second is defined later \(line 3\)/,
  },
  {
    name: 'a stage name used twice',
    files: withDockerfile('FROM alpine AS build\nRUN true\nFROM debian AS BUILD\n'),
    args: PLAN,
    file: 'app/Dockerfile',
    at: { line: 3 },
    problem: /stage name "build" is already used by the stage at line 1/,
  },
  {
    name: 'a bad escape directive',
    files: withDockerfile('# escape=x\nFROM alpine\n'),
    args: ['graph'],
    file: 'app/Dockerfile',
    at: { line: 1 },
    problem: /invalid escape directive "x"/,
  },
  {
    name: 'an unknown instruction',
    files: withDockerfile('FROM alpine\nRUN true\nCOPPY a b\n'),
    args: BUILD,
    file: 'app/Dockerfile',
    at: { line: 3 },
    problem: /unknown instruction "COPPY"/,
  },
  {
    name: 'a Dockerfile of an included manifest is named by its path',
    files: {
      'manifest.json': { registry: REG, includes: ['src/linux/manifest.json'] },
      'src/linux/manifest.json': { repos: [{ name: 'team/app', images: [{ platforms: [platform('src/linux/app')] }] }] },
      'src/linux/app/Dockerfile': 'FROM alpine\nRUN --mount=from=${IMG},target=/x true\n',
    },
    args: PLAN,
    file: 'src/linux/app/Dockerfile',
    at: { line: 2 },
    problem: /does not expand variables in a mount's from/,
  },
  // ---------------------------------------------------------------- image-info
  {
    name: 'an image-info file that is not JSON',
    files: { ...withDockerfile(DOCKERFILE), [IMAGE_INFO]: '{\n  "schemaVersion": "2.0",\n  "repos": [\n    {"repo": "team/app" "images": []}\n  ]\n}\n' },
    args: PLAN,
    file: IMAGE_INFO,
    at: 'line 4, column 25',
    problem: /invalid JSON: expected ','/,
  },
  {
    name: 'an image-info file with a wrong field type, given to build --push',
    files: {
      ...withDockerfile(DOCKERFILE),
      [IMAGE_INFO]: {
        schemaVersion: '2.0',
        repos: [{ repo: 'team/app', images: [{ platforms: [{ dockerfile: 'app', simpleTags: ['1'], digest: '', osType: 'Linux', osVersion: 'bookworm', architecture: 'amd64', layers: 'none' }] }] }],
      },
    },
    args: BUILD,
    file: IMAGE_INFO,
    at: { path: 'repos[0].images[0].platforms[0].layers', line: { of: '"layers"' } },
    problem: /layers must be a list, found string "none"/,
  },
];

// ---------------------------------------------------------------- running

/** Engine settings nothing can reach: a `build` that got as far as the engine would fail with exit 1. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/imagewright-no-engine.sock', IMAGEWRIGHT_DOCKER: '/nonexistent/docker' };

let registry: TestRegistry;
const roots: string[] = [];

before(async () => {
  registry = await startRegistry();
});

after(async () => {
  await registry?.stop();
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function fixture(files: Files): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'iw-bad-input-'));
  roots.push(root);
  // An empty Docker config, so the user's credentials play no part.
  await mkdir(join(root, '.docker'));
  for (const [name, content] of Object.entries(files)) {
    const file = join(root, name);
    await mkdir(dirname(file), { recursive: true });
    const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
    await writeFile(file, text.replaceAll(REG, registry.host));
  }
  return root;
}

/** Every entry under `root` with its type, content digest and modification time. */
async function snapshot(root: string, dir = root, into = new Map<string, string>()): Promise<Map<string, string>> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const stat = await lstat(path);
    const key = path.slice(root.length + 1);
    if (entry.isDirectory()) {
      into.set(key, `dir ${stat.mtimeMs}`);
      await snapshot(root, path, into);
    } else if (entry.isSymbolicLink()) {
      into.set(key, `link ${await readlink(path)}`);
    } else {
      into.set(key, `file ${createHash('sha256').update(await readFile(path)).digest('hex')} ${stat.mtimeMs}`);
    }
  }
  return into;
}

function expectedLocation(testCase: Case, root: string, files: Files): Promise<string> | string {
  const at = testCase.at;
  if (typeof at === 'string') return at;
  if (at.line === undefined) return at.path ?? '';
  const show = (line: number): string => (at.path ? `${at.path} (line ${line})` : `line ${line}`);
  if (typeof at.line === 'number') return show(at.line);
  const { of, delta = 0 } = at.line;
  return readFile(join(root, testCase.file), 'utf8').then((text) => {
    const offset = text.indexOf(of);
    assert.ok(offset >= 0, `${of} is not in ${testCase.file}: ${JSON.stringify(files[testCase.file])}`);
    return show(text.slice(0, offset).split('\n').length + delta);
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('imagewright rejects bad input with one line naming the file and location, exit code 2, and writes nothing', { timeout: 5 * 60_000 }, () => {
  it('has a table of at least 24 cases, manifests and Dockerfiles, run through plan, graph and build', () => {
    assert.ok(cases.length >= 24, `${cases.length} cases`);
    const commands = new Set(cases.map((c) => c.args[0]));
    assert.deepEqual([...commands].sort(), ['build', 'graph', 'plan']);
    assert.ok(cases.filter((c) => c.file.endsWith('Dockerfile')).length >= 8);
    assert.ok(cases.filter((c) => c.file.endsWith('.json') && c.file !== IMAGE_INFO).length >= 10);
  });

  it('a build of valid input does reach the engine settings used here, and fails there (exit 1)', async () => {
    // Without this, the build cases below could pass just because build never gets that far.
    const root = await fixture(withDockerfile(DOCKERFILE));
    const result = await runCli([...BUILD, '--log-dir', join(root, '.imagewright', 'logs')], {
      cwd: root,
      env: { ...NO_ENGINE, DOCKER_CONFIG: join(root, '.docker') },
    });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /imagewright-no-engine\.sock/);
  });

  for (const testCase of cases) {
    it(`${testCase.args[0]}: ${testCase.name}`, { ...(testCase.todo && { todo: testCase.todo }) }, async () => {
      const root = await fixture(testCase.files);
      const before = await snapshot(root);
      const result = await runCli(testCase.args, { cwd: root, env: { ...NO_ENGINE, DOCKER_CONFIG: join(root, '.docker') } });

      assert.equal(result.code, 2, `exit code; stderr: ${result.stderr}`);
      assert.equal(result.stdout, '', 'nothing on stdout');
      assert.match(result.stderr, /^[^\n]*\n$/, `exactly one line on stderr: ${JSON.stringify(result.stderr)}`);
      const location = await expectedLocation(testCase, root, testCase.files);
      const head = `imagewright: error: ${testCase.file}: ${location ? `${location}: ` : ''}`;
      assert.ok(result.stderr.startsWith(head), `expected to start with ${JSON.stringify(head)}:\n${result.stderr}`);
      assert.match(result.stderr.slice(head.length), testCase.problem);
      assert.doesNotMatch(result.stderr, new RegExp(escape(registry.password)));

      assert.deepEqual(await snapshot(root), before, 'the folder is unchanged');
    });
  }

  it('pushed nothing to the registry the build cases named', async () => {
    const response = await fetch(`${registry.url}/v2/_catalog`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { repositories: [] });
  });
});
