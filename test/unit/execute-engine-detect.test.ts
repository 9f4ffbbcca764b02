import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { revealArgv } from '../../src/secret.js';
import {
  DockerCliEngine,
  EngineError,
  EngineUnavailableError,
  detectDockerCli,
  onceProbe,
  readEnginePlatform,
  type Probe,
  type ProbeResult,
} from '../../src/execute/engine.js';

interface FakeCli {
  /** Client version it prints. */
  version: string;
  buildx: boolean;
  /** Whether `DOCKER_BUILDKIT=1 docker build` runs BuildKit (clients before 23.0). */
  embeddedBuildKit: boolean;
}

/** A probe answering like the Docker CLIs installed at the given paths; absent paths are "not found". */
function fakeProbe(clis: Record<string, FakeCli>, calls: Array<{ command: string; args: string[]; buildkit?: string }>): Probe {
  return (command, args, env) => {
    calls.push({ command, args, buildkit: env.DOCKER_BUILDKIT });
    const cli = clis[command];
    const answer = (status: number | undefined, stdout = ''): Promise<ProbeResult> => Promise.resolve({ status, stdout, stderr: '' });
    if (!cli) return answer(undefined);
    if (args[0] === 'version') return answer(1, `${cli.version}\n`);
    if (args[0] === 'buildx') return answer(cli.buildx ? 0 : 1);
    if (args[0] === 'build') return answer(env.DOCKER_BUILDKIT === '1' && !cli.embeddedBuildKit ? 1 : 0);
    return answer(1);
  };
}

const modern: FakeCli = { version: '28.2.2', buildx: false, embeddedBuildKit: false };
const debian: FakeCli = { version: '20.10.24+dfsg1', buildx: false, embeddedBuildKit: true };

describe('detectDockerCli', () => {
  it('asks `docker version` once for the client version and the engine platform, with one run\'s onceProbe', async () => {
    const calls: string[] = [];
    const probe: Probe = (command, args) => {
      calls.push(args.join(' '));
      // As the CLI answers VERSION_ARGS when a daemon answers; without one it prints `20.10.24+dfsg1|` and exits 1.
      if (args[0] === 'version') return Promise.resolve({ status: 0, stdout: '20.10.24+dfsg1|linux/arm64\n', stderr: '' });
      return Promise.resolve({ status: args[0] === 'build' ? 0 : 1, stdout: '', stderr: '' });
    };
    const once = onceProbe(probe);
    const env = {};
    const [cli, platform] = await Promise.all([detectDockerCli({ env, probe: once }), readEnginePlatform({ env, probe: once })]);
    assert.deepEqual(cli, { command: 'docker', flavor: 'buildkit-env', version: '20.10.24+dfsg1' });
    assert.deepEqual(platform, { os: 'linux', architecture: 'arm64' });
    assert.equal(calls.filter((c) => c.startsWith('version')).length, 1);
    assert.deepEqual(await readEnginePlatform({ env, probe: () => Promise.resolve({ status: 1, stdout: '28.2.2|\n', stderr: '' }) }), undefined);
  });

  it('uses buildx when the first candidate has it', async () => {
    const calls: Array<{ command: string; args: string[] }> = [];
    const cli = await detectDockerCli({ env: {}, probe: fakeProbe({ docker: { ...modern, buildx: true } }, calls) });
    assert.deepEqual(cli, { command: 'docker', flavor: 'buildx', version: '28.2.2' });
  });

  it('passes over a client without buildx that would fall back to the legacy builder', async () => {
    const calls: Array<{ command: string; args: string[]; buildkit?: string }> = [];
    const cli = await detectDockerCli({ env: {}, probe: fakeProbe({ docker: modern, '/usr/bin/docker': debian }, calls) });
    assert.deepEqual(cli, { command: '/usr/bin/docker', flavor: 'buildkit-env', version: '20.10.24+dfsg1' });
    // The classic path was probed as it will run: with DOCKER_BUILDKIT=1.
    assert.ok(calls.some((c) => c.command === 'docker' && c.args[0] === 'build' && c.buildkit === '1'));
  });

  it('tries $IMAGEWRIGHT_DOCKER first', async () => {
    const calls: Array<{ command: string; args: string[] }> = [];
    const cli = await detectDockerCli({
      env: { IMAGEWRIGHT_DOCKER: '/opt/docker/bin/docker' },
      probe: fakeProbe({ docker: { ...modern, buildx: true }, '/opt/docker/bin/docker': debian }, calls),
    });
    assert.equal(cli.command, '/opt/docker/bin/docker');
    assert.equal(cli.flavor, 'buildkit-env');
    assert.equal(calls[0]?.command, '/opt/docker/bin/docker');
  });

  it('refuses, saying what each candidate lacked, when only the legacy builder would run', async () => {
    const probe = fakeProbe({ docker: modern }, []);
    await assert.rejects(detectDockerCli({ env: {}, probe }), (error: unknown) => {
      assert.ok(error instanceof EngineUnavailableError);
      assert.match(error.message, /RUN --mount/);
      assert.match(error.message, /docker 28\.2\.2 has no buildx plugin and its docker build would use the legacy builder/);
      assert.match(error.message, /\/usr\/bin\/docker: not found/);
      return true;
    });
  });
});

describe('DockerCliEngine', () => {
  let dir: string;
  let fakeDocker: string;
  let record: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iw-fake-docker-'));
    record = join(dir, 'calls.txt');
    fakeDocker = join(dir, 'docker');
    // Records its arguments and the variables the engine must pass, writes the --iidfile, and can fail on demand.
    await writeFile(
      fakeDocker,
      [
        '#!/bin/sh',
        `echo "ARGS $*" >> "${record}"`,
        `echo "DOCKER_HOST=$DOCKER_HOST DOCKER_BUILDKIT=$DOCKER_BUILDKIT" >> "${record}"`,
        'while [ $# -gt 0 ]; do',
        '  if [ "$1" = "--iidfile" ]; then echo "sha256:feed" > "$2"; fi',
        '  if [ "$1" = "fail-me" ]; then echo "boom on stderr" >&2; exit 3; fi',
        '  shift',
        'done',
        'echo "1: digest: sha256:' + 'ab'.repeat(32) + ' size: 735"',
        '',
      ].join('\n'),
    );
    await chmod(fakeDocker, 0o755);
  });

  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const request = (log: string[], contextDir = '/ctx') => ({
    contextDir,
    dockerfile: '/tmp/x/Dockerfile',
    tags: ['127.0.0.1:5000/app:1', '127.0.0.1:5000/app:latest'],
    platform: 'linux/amd64',
    buildArgs: { VERSION: '1.2', TOKEN: 'very-secret' },
    labels: { 'dev.imagewright.build-key': 'sha256:abc' },
    cacheFrom: ['127.0.0.1:5000/app@sha256:old'],
    inlineCache: true,
    noCache: false,
    log: { write: (chunk: string | Uint8Array) => log.push(String(chunk)) },
  });

  it('runs DOCKER_BUILDKIT=1 docker build with every input, passing DOCKER_HOST through', async () => {
    const engine = new DockerCliEngine({ command: fakeDocker, flavor: 'buildkit-env', version: '20.10' }, { PATH: process.env.PATH, DOCKER_HOST: 'unix:///run/x.sock' });
    const log: string[] = [];
    const { imageId } = await engine.build(request(log));
    assert.equal(imageId, 'sha256:feed');
    const calls = await readFile(record, 'utf8');
    assert.match(calls, /DOCKER_HOST=unix:\/\/\/run\/x\.sock DOCKER_BUILDKIT=1/);
    const args = calls.split('\n').find((l) => l.startsWith('ARGS build')) ?? '';
    for (const part of [
      '--platform linux/amd64',
      '-f /tmp/x/Dockerfile',
      '-t 127.0.0.1:5000/app:1 -t 127.0.0.1:5000/app:latest',
      '--build-arg VERSION=1.2',
      '--build-arg BUILDKIT_INLINE_CACHE=1',
      '--label dev.imagewright.build-key=sha256:abc',
      '--cache-from 127.0.0.1:5000/app@sha256:old',
    ]) {
      assert.ok(args.includes(part), `${part} in ${args}`);
    }
    assert.ok(args.endsWith(' /ctx'), 'the context comes last');
    assert.ok(!log.join('').includes('very-secret'), 'build-arg values stay out of the log');
    assert.match(log.join(''), /--build-arg TOKEN=\*\*\*/);
  });

  it('uses docker buildx build --load with buildx, without DOCKER_BUILDKIT', async () => {
    const engine = new DockerCliEngine({ command: fakeDocker, flavor: 'buildx', version: '28' }, { PATH: process.env.PATH });
    const args = revealArgv(engine.buildArgv(request([]), '/iid'));
    assert.deepEqual(args.slice(0, 3), ['buildx', 'build', '--load']);
    assert.ok(args.join(' ').includes('--cache-to type=inline'));
    await writeFile(record, '');
    await engine.build(request([]));
    assert.match(await readFile(record, 'utf8'), /DOCKER_BUILDKIT=\n/);
  });

  it('reports a failed build with its exit status, its output in the log', async () => {
    const engine = new DockerCliEngine({ command: fakeDocker, flavor: 'buildkit-env', version: '20.10' }, { PATH: process.env.PATH });
    const log: string[] = [];
    await assert.rejects(engine.build(request(log, 'fail-me')), (error: unknown) => {
      assert.ok(error instanceof EngineError);
      assert.equal(error.status, 3);
      assert.match(error.message, /docker build failed \(exit status 3\)/);
      return true;
    });
    assert.match(log.join(''), /boom on stderr/);
  });

  it('returns the digest docker push printed', async () => {
    const engine = new DockerCliEngine({ command: fakeDocker, flavor: 'buildkit-env', version: '20.10' }, { PATH: process.env.PATH });
    assert.deepEqual(await engine.push('127.0.0.1:5000/app:1', { write: () => true }), { digest: `sha256:${'ab'.repeat(32)}` });
  });
});
