import assert from 'node:assert/strict';
import { format, inspect } from 'node:util';
import { describe, it } from 'node:test';
import { createProgram } from '../../src/cli/program.js';
import { DockerCliEngine, type BuildRequest } from '../../src/execute/engine.js';
import { renderPlanJson, renderPlanText } from '../../src/plan/index.js';
import { consumedBuildArgs } from '../../src/plan/keys.js';
import { displayArgv, revealArgv, SecretValue } from '../../src/secret.js';
import { analysis, fromOnly, makeManifest, planOf, World } from '../helpers/plan-fixtures.js';

const VALUE = 'tok-3f9a1c77e2';

describe('SecretValue', () => {
  it('renders masked however it is turned into text, and reveals only on request', () => {
    const secret = new SecretValue(VALUE);
    const shown = [String(secret), `${secret}`, JSON.stringify({ secret }), inspect(secret), inspect({ nested: [secret] }), format('%s %j', secret, secret)];
    for (const text of shown) assert.ok(!text.includes(VALUE), `leaked: ${text}`);
    assert.equal(String(secret), '***');
    assert.equal(secret.reveal(), VALUE);
    assert.equal(String(secret.withPrefix('TOKEN=')), 'TOKEN=***');
    assert.equal(secret.withPrefix('TOKEN=').reveal(), `TOKEN=${VALUE}`);
  });

  it('an argv reveals its secrets to spawn and masks them for the log, control characters escaped', () => {
    const argv = ['build', '--build-arg', new SecretValue(VALUE, 'TOKEN='), '-t', 'app:\x1b[2J'];
    assert.deepEqual(revealArgv(argv), ['build', '--build-arg', `TOKEN=${VALUE}`, '-t', 'app:\x1b[2J']);
    assert.equal(displayArgv(argv), 'build --build-arg TOKEN=*** -t app:\\u001b[2J');
  });

  it('the Docker argv builder masks every build-arg value, gives command-line values by the environment, and passes --secret specs through', () => {
    const engine = new DockerCliEngine({ command: 'docker', flavor: 'buildkit-env', version: '20.10' }, {});
    const request: BuildRequest = {
      contextDir: '/ctx',
      dockerfile: '/ctx/Dockerfile',
      tags: ['r/app:1'],
      platform: 'linux/amd64',
      buildArgs: { VERSION: '1.2', TOKEN: new SecretValue(VALUE), HTTPS_PROXY: new SecretValue('http://user:proxy-pass@proxy:3128') },
      secrets: [{ spec: 'id=npm,src=/run/npmrc', value: new SecretValue('npm-token-value') }],
      labels: {},
      cacheFrom: [],
      inlineCache: false,
      noCache: false,
      log: { write: () => true },
    };
    const argv = engine.buildArgv(request, '/iid');
    const shown = displayArgv(argv);
    assert.ok(!shown.includes(VALUE));
    assert.match(shown, /--build-arg VERSION=\*\*\* --build-arg TOKEN --build-arg HTTPS_PROXY=\*\*\* --secret id=npm,src=\/run\/npmrc/);
    // Not in the argv (every user of the machine reads /proc/<pid>/cmdline): docker takes `--build-arg TOKEN` from its environment.
    assert.ok(!revealArgv(argv).join(' ').includes(VALUE));
    assert.deepEqual(Object.keys(engine.buildEnv(request)), ['TOKEN']);
    assert.equal(engine.buildEnv(request).TOKEN?.reveal(), VALUE);
    // A name docker itself reads from its environment (a proxy) stays an argument, masked in the log.
    assert.ok(revealArgv(argv).includes('HTTPS_PROXY=http://user:proxy-pass@proxy:3128'));
    const named = (names: string[]) =>
      Object.keys(engine.buildEnv({ ...request, buildArgs: Object.fromEntries(names.map((n) => [n, new SecretValue(VALUE)])) }));
    assert.deepEqual(named(['OTEL_EXPORTER_OTLP_HEADERS', 'GIT_SSH_COMMAND', 'SSH_AUTH_SOCK', 'USERPROFILE', 'DOCKER_HOST', 'no_proxy', 'NPM_TOKEN']), ['NPM_TOKEN']);
    assert.ok(!revealArgv(argv).join(' ').includes('npm-token-value'), 'BuildKit reads the secret itself');
  });

  it("a build's output is masked for command-line values and secrets, also when split between chunks", () => {
    const mask = SecretValue.outputMask([new SecretValue(VALUE), new SecretValue('tok'), new SecretValue('line-secret\n')]);
    const chunks = ['#7 [4/4] RUN echo "tok-3f9', 'a1c77e2" | wc -c\n', 'cat: line-secret\nfoo tok', '-3f9a1c77e', '2'];
    const out = chunks.map((c) => mask.write(c)).join('') + mask.end();
    assert.equal(out, '#7 [4/4] RUN echo "***" | wc -c\ncat: ***foo ***');
    assert.equal(SecretValue.outputMask([]).write('as is'), 'as is');
  });
});

describe('--build-arg in plans', () => {
  /** r:uses declares ARG TOKEN; r:other does not; r:own sets TOKEN in the manifest. */
  function world(): World {
    const manifest = makeManifest([
      {
        name: 'r',
        images: [
          { platforms: [{ dockerfile: 'src/uses', tags: ['uses'] }] },
          { platforms: [{ dockerfile: 'src/other', tags: ['other'] }] },
          { platforms: [{ dockerfile: 'src/own', tags: ['own'], buildArgs: { TOKEN: 'from-manifest' } }] },
        ],
      },
    ]);
    const declaring = { ...fromOnly('debian:12'), argNames: ['TOKEN'] };
    return World.of(manifest, { 'r:uses': declaring, 'r:other': { ...analysis([{ from: 'debian:12' }]), argNames: [] }, 'r:own': declaring });
  }

  it('a consumed value enters the key, never the inputs, the reasons or the plan output', () => {
    const w = world();
    w.commandLineBuildArgs = new Map([['TOKEN', new SecretValue(VALUE)]]);
    const first = w.baseline();
    const before = w.plan(first);
    assert.deepEqual(
      before.platforms.map((p) => p.decision),
      ['reuse', 'reuse', 'reuse'],
    );
    w.commandLineBuildArgs = new Map([['TOKEN', new SecretValue(`${VALUE}-rotated`)]]);
    const after = w.plan(first);
    assert.equal(planOf(after, 'r:uses').decision, 'build');
    assert.deepEqual(planOf(after, 'r:uses').reasons, [{ kind: 'build-args-changed', detail: 'build arg TOKEN changed', args: ['TOKEN'], changes: [] }]);
    assert.deepEqual(planOf(after, 'r:uses').inputs.commandLineBuildArgs, ['TOKEN']);
    // Not declared, or set by the manifest (which wins, as in ImageBuilder): not consumed, key unchanged.
    assert.equal(planOf(after, 'r:other').decision, 'reuse');
    assert.equal(planOf(after, 'r:own').decision, 'reuse');
    for (const text of [renderPlanJson(after), renderPlanText(after), JSON.stringify(w.carryOut(after)), inspect(after, { depth: 20 })]) {
      assert.ok(!text.includes(VALUE), 'the value reached a plan output or record');
    }
  });

  it('giving or dropping one names it', () => {
    const w = world();
    const first = w.baseline();
    w.commandLineBuildArgs = new Map([['TOKEN', new SecretValue(VALUE)]]);
    assert.deepEqual(planOf(w.plan(first), 'r:uses').reasons, [{ kind: 'build-args-changed', detail: 'build args changed: TOKEN', args: ['TOKEN'], changes: [] }]);
  });

  it('a Dockerfile of unknown ARGs consumes every build arg; predefined ones always count', () => {
    const args = new Map([
      ['A', new SecretValue('1')],
      ['HTTP_PROXY', new SecretValue('2')],
      ['BUILDKIT_SYNTAX', new SecretValue('3')],
    ]);
    assert.deepEqual([...consumedBuildArgs(args, {}, undefined).keys()], ['A', 'BUILDKIT_SYNTAX', 'HTTP_PROXY']);
    assert.deepEqual([...consumedBuildArgs(args, {}, []).keys()], ['BUILDKIT_SYNTAX', 'HTTP_PROXY']);
    assert.deepEqual([...consumedBuildArgs(args, { A: 'x' }, ['A']).keys()], ['BUILDKIT_SYNTAX', 'HTTP_PROXY']);
  });
});

describe('--build-arg and --secret options', () => {
  async function parse(args: string[]): Promise<Record<string, unknown>> {
    const program = createProgram();
    let seen: Record<string, unknown> = {};
    const plan = program.commands.find((c) => c.name() === 'build');
    assert.ok(plan);
    plan.action((options: Record<string, unknown>) => {
      seen = options;
    });
    await program.parseAsync(['node', 'imagewright', 'build', ...args]);
    return seen;
  }

  it('NAME=VALUE and NAME (from the environment) collect as masked values; an unset NAME is left out', async () => {
    process.env.IW_TEST_FROM_ENV = VALUE;
    delete process.env.IW_TEST_UNSET;
    const options = await parse(['--build-arg', 'A=1', '--build-arg', 'IW_TEST_FROM_ENV', '--build-arg', 'IW_TEST_UNSET']);
    const args = options.buildArg as Map<string, SecretValue>;
    assert.deepEqual([...args.keys()], ['A', 'IW_TEST_FROM_ENV']);
    assert.equal(args.get('IW_TEST_FROM_ENV')?.reveal(), VALUE);
    assert.ok(!inspect(options).includes(VALUE));
  });

  it('a bad --build-arg is refused without echoing its value', async () => {
    for (const bad of [`=${VALUE}`, `BAD NAME=${VALUE}`, `TOKEN=${VALUE}\0`]) {
      await assert.rejects(parse(['--build-arg', bad]), (error: Error) => {
        assert.match(error.message, /^--build-arg/);
        assert.ok(!error.message.includes(VALUE), error.message);
        return true;
      });
    }
  });

  it('a --secret from a file that is not a regular file, or an unset variable, is refused', async () => {
    await assert.rejects(parse(['--secret', 'id=x,src=/dev/zero']), /--secret id=x: src "\/dev\/zero" is not a regular file/);
    delete process.env.IW_TEST_UNSET;
    await assert.rejects(parse(['--secret', 'id=x,env=IW_TEST_UNSET']), /--secret id=x: environment variable IW_TEST_UNSET is not set/);
    await assert.rejects(parse(['--secret', 'src=/etc/hostname']), /--secret: id= must name the secret/);
    const options = await parse(['--secret', 'id=x,source=/etc/hostname', '--secret', 'id=y,env=PATH']);
    const secrets = options.secret as Array<{ spec: string; value: SecretValue }>;
    assert.deepEqual(
      secrets.map((s) => s.spec),
      ['id=x,src=/etc/hostname', 'id=y,env=PATH'],
    );
    assert.equal(secrets[1]?.value.reveal(), process.env.PATH);
    assert.ok(!inspect(options).includes(process.env.PATH ?? '/'), 'the values are masked when shown');
  });
});
