/**
 * The example workflows in docs/workflows and the commands in the docs' code blocks run imagewright
 * commands that exist, with options that exist: checked against the real CLI's command definitions.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { createProgram } from '../../src/cli/program.js';
import { ExitCode } from '../../src/errors.js';
import { githubOutputLines } from '../../src/matrix/index.js';
import { planGithubOutputs } from '../../src/plan/github.js';
import { repoRoot } from '../helpers/cli.js';

const docsDir = join(repoRoot, 'docs');
const workflowsDir = join(docsDir, 'workflows');

interface Invocation {
  /** Where it was found, for messages. */
  where: string;
  command: string;
  args: string[];
}

interface Step {
  id?: string;
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

interface Job {
  needs?: string | string[];
  steps?: Step[];
  strategy?: { matrix?: unknown };
  outputs?: Record<string, string>;
}

interface Workflow {
  on?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

function loadWorkflow(file: string): Workflow {
  const doc = parseDocument(readFileSync(join(workflowsDir, file), 'utf8'));
  assert.deepEqual(doc.errors.map((e) => e.message), [], `${file} is valid YAML`);
  const workflow = doc.toJS() as Workflow;
  assert.ok(workflow.jobs && typeof workflow.jobs === 'object', `${file} has jobs`);
  return workflow;
}

/** Shell words of one simple command: quotes removed, `${{ … }}` already replaced. */
function words(command: string): string[] {
  const found: string[] = [];
  for (const m of command.matchAll(/"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g)) found.push(m[1] ?? m[2] ?? m[3] ?? '');
  return found;
}

/** Every `imagewright …` or `npx [--yes] imagewright …` command of a shell script. */
function imagewrightInvocations(script: string, where: string): Invocation[] {
  const flat = script.replace(/\$\{\{[\s\S]*?\}\}/g, '${EXPR}').replace(/\\\r?\n/g, ' ');
  const invocations: Invocation[] = [];
  for (const simple of flat.split(/\n|;|&&|\|\||\|/)) {
    let tokens = words(simple);
    while (tokens[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(tokens[0])) tokens = tokens.slice(1);
    if (tokens[0] === 'npx') {
      tokens = tokens.slice(1);
      while (tokens[0]?.startsWith('-')) tokens = tokens.slice(1);
    }
    if (!/^imagewright(@\S+)?$/.test(tokens[0] ?? '')) continue;
    // A synopsis such as `imagewright <command> [options]` names no command.
    if (tokens[1]?.startsWith('<')) continue;
    invocations.push({ where, command: tokens[1] ?? '', args: tokens.slice(2) });
  }
  return invocations;
}

/** A step that uses imagewright's action (action.yml at the root of imagewright's repository). */
function usesImagewrightAction(step: Step): boolean {
  return /^[\w.-]+\/imagewright@\S+$/.test(step.uses ?? '');
}

/** The imagewright commands a step runs: its shell script's, or the action's `command` input. */
function stepInvocations(step: Step, where = ''): Invocation[] {
  if (step.run) return imagewrightInvocations(step.run, where);
  const command = step.with?.command;
  if (usesImagewrightAction(step) && typeof command === 'string' && command.trim()) return imagewrightInvocations(`imagewright ${command}`, where);
  return [];
}

function workflowInvocations(file: string, workflow: Workflow): Invocation[] {
  return Object.entries(workflow.jobs).flatMap(([jobName, job]) =>
    (job.steps ?? []).flatMap((step, i) => stepInvocations(step, `${file}: jobs.${jobName}.steps[${i}]${step.id ? ` (${step.id})` : ''}`)),
  );
}

/** What is wrong with an invocation according to the CLI's own definitions; empty when nothing is. */
function problems(program: Command, inv: Invocation): string[] {
  const command = program.commands.find((c) => c.name() === inv.command);
  if (!command) return [`${inv.where}: imagewright has no command "${inv.command}"`];
  const found: string[] = [];
  inv.args.forEach((arg, i) => {
    if (!arg.startsWith('-') || arg === '-') return;
    const [flag = arg, inline] = arg.split(/=(.*)/s, 2);
    const option = command.options.find((o) => o.long === flag || o.short === flag);
    if (!option) {
      found.push(`${inv.where}: imagewright ${inv.command} has no option ${flag}`);
      return;
    }
    const value = inline ?? inv.args[i + 1];
    const dynamic = value === undefined || value.includes('$');
    if (option.argChoices && !dynamic && !option.argChoices.includes(value)) {
      found.push(`${inv.where}: imagewright ${inv.command} ${flag} takes ${option.argChoices.join('|')}, not "${value}"`);
    }
  });
  return found;
}

function assertValid(invocations: Invocation[]): void {
  const program = createProgram();
  const all = invocations.flatMap((inv) => problems(program, inv));
  assert.deepEqual(all, [], `\n${all.join('\n')}`);
}

function flagsOf(inv: Invocation): string[] {
  return inv.args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0] ?? a);
}

function valueOf(inv: Invocation, flag: string): string | undefined {
  const at = inv.args.indexOf(flag);
  return at >= 0 ? inv.args[at + 1] : inv.args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
}

function usesOf(invocations: Invocation[], command: string): Invocation[] {
  return invocations.filter((inv) => inv.command === command);
}

describe('the invocation extractor', () => {
  it('finds npx and bare invocations across continuations and lists, ignoring words inside quotes', () => {
    const script = [
      'set -e',
      'FOO=1 npx --yes imagewright plan --manifest m.json \\',
      '  --format "github" --image-info "${{ inputs.info }}" && echo "imagewright build --nope"',
      'imagewright merge-image-info --out=o.json a.json b.json; gh workflow run x.yml',
    ].join('\n');
    assert.deepEqual(
      imagewrightInvocations(script, 'w').map((i) => [i.command, i.args]),
      [
        ['plan', ['--manifest', 'm.json', '--format', 'github', '--image-info', '${EXPR}']],
        ['merge-image-info', ['--out=o.json', 'a.json', 'b.json']],
      ],
    );
  });

  it('reports unknown commands, unknown options and values outside an option\'s choices', () => {
    const program = createProgram();
    const bad = [
      { where: 'w', command: 'nonesuch', args: [] },
      { where: 'w', command: 'plan', args: ['--nonesuch', '--format', 'yaml', '--exit-code'] },
    ];
    assert.deepEqual(bad.flatMap((inv) => problems(program, inv)), [
      'w: imagewright has no command "nonesuch"',
      'w: imagewright plan has no option --nonesuch',
      'w: imagewright plan --format takes text|json|github, not "yaml"',
    ]);
  });
});

describe('docs/workflows', () => {
  const files = readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f)).sort();

  it('holds the build and the stale-check workflows', () => {
    assert.ok(files.includes('build.yml'), files.join(', '));
    assert.ok(files.includes('stale-check.yml'), files.join(', '));
  });

  for (const file of files) {
    it(`${file}: every imagewright command and option it runs exists`, () => {
      const invocations = workflowInvocations(file, loadWorkflow(file));
      assert.ok(invocations.length > 0, `${file} runs imagewright`);
      assertValid(invocations);
    });
  }

  for (const file of files) {
    it(`${file}: every job installs imagewright with its action before running it, never with npx`, () => {
      const workflow = loadWorkflow(file);
      for (const [name, job] of Object.entries(workflow.jobs)) {
        const steps = job.steps ?? [];
        const firstAction = steps.findIndex(usesImagewrightAction);
        steps.forEach((step, i) => {
          assert.doesNotMatch(step.run ?? '', /\bnpx\b|\bnpm (ci|install)\b/, `${file}: jobs.${name}.steps[${i}] installs or runs imagewright without the action`);
          if (step.run && stepInvocations(step).length > 0) {
            assert.ok(firstAction >= 0 && firstAction < i, `${file}: jobs.${name}.steps[${i}] runs imagewright before the action installed it`);
          }
        });
      }
    });
  }

  it('build.yml: matrix feeds strategy.matrix of the build jobs; legs build and push; publish merges and pushes indexes', () => {
    const workflow = loadWorkflow('build.yml');

    const matrixJob = workflow.jobs.matrix;
    assert.ok(matrixJob, 'a job named matrix');
    const matrixSteps = (matrixJob.steps ?? []).filter((s) => usesOf(stepInvocations(s), 'matrix').length > 0);
    assert.ok(matrixSteps.length > 0, 'the matrix job runs imagewright matrix');
    for (const step of matrixSteps) {
      const [inv] = usesOf(stepInvocations(step), 'matrix');
      assert.ok(inv && inv.args.join(' ').includes('--format github'), `matrix step ${step.id}: --format github`);
      assert.ok(flagsOf(inv).includes('--only-changed'), `matrix step ${step.id}: --only-changed`);
    }
    const matrixOutputs = new Set(
      Object.entries(matrixJob.outputs ?? {})
        .filter(([, value]) => matrixSteps.some((s) => s.id && value.includes(`steps.${s.id}.outputs.matrix`)))
        .map(([name]) => name),
    );

    const buildJobs = Object.entries(workflow.jobs).filter(([, job]) => job.strategy?.matrix !== undefined);
    assert.ok(buildJobs.length > 0, 'a job with a strategy.matrix');
    for (const [name, job] of buildJobs) {
      const fed = /^\$\{\{\s*fromJSON\(needs\.matrix\.outputs\.([\w-]+)\)\s*\}\}$/.exec(String(job.strategy?.matrix));
      assert.ok(fed && matrixOutputs.has(fed[1] ?? ''), `${name}: strategy.matrix is an imagewright matrix output, got ${String(job.strategy?.matrix)}`);
      const builds = (job.steps ?? []).flatMap((s) => usesOf(stepInvocations(s), 'build'));
      assert.equal(builds.length, 1, `${name} runs imagewright build once`);
      const flags = flagsOf(builds[0] as Invocation);
      for (const flag of ['--leg', '--push', '--image-info', '--image-info-out']) assert.ok(flags.includes(flag), `${name}: build ${flag}`);
      assert.ok((builds[0]?.args ?? []).includes('${EXPR}'), `${name}: the leg comes from the matrix`);
      // A later wave plans from what the earlier waves built: their records merged into the file it reads.
      if ([job.needs ?? []].flat().some((n) => buildJobs.some(([other]) => other === n))) {
        const merges = workflowInvocations('build.yml', { jobs: { [name]: job } }).filter((inv) => inv.command === 'merge-image-info');
        assert.ok(merges.length > 0, `${name} (a later wave) merges the earlier waves' image-info`);
        assert.equal(valueOf(builds[0] as Invocation, '--image-info'), valueOf(merges[0] as Invocation, '--out'), `${name}: build --image-info is the merged file`);
      }
    }

    const publishJob = workflow.jobs.publish;
    assert.ok(publishJob, 'a job named publish');
    const publishing = workflowInvocations('build.yml', { jobs: { publish: publishJob } });
    const merge = usesOf(publishing, 'merge-image-info');
    assert.equal(merge.length, 1, 'publish runs one merge-image-info');
    for (const flag of ['--publish', '--manifest', '--out']) assert.ok(flagsOf(merge[0] as Invocation).includes(flag), `merge-image-info ${flag}`);
    const publish = usesOf(publishing, 'publish-manifest');
    assert.equal(publish.length, 1, 'one publish-manifest');
    for (const flag of ['--manifest', '--image-info']) assert.ok(flagsOf(publish[0] as Invocation).includes(flag), `publish-manifest ${flag}`);
  });

  it(`stale-check.yml: on a schedule, plan --format github --exit-code; ${ExitCode.stale} starts the build, other codes fail`, () => {
    const workflow = loadWorkflow('stale-check.yml');
    assert.ok(Array.isArray(workflow.on?.schedule), 'on.schedule');
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);
    const planStep = steps.find((s) => s.run && usesOf(imagewrightInvocations(s.run, ''), 'plan').length > 0);
    assert.ok(planStep?.run, 'a step runs imagewright plan');
    const [plan] = usesOf(imagewrightInvocations(planStep.run, ''), 'plan');
    assert.ok(plan, 'a plan invocation');
    assert.ok(plan.args.join(' ').includes('--format github'), 'plan --format github');
    assert.ok(flagsOf(plan).includes('--exit-code'), 'plan --exit-code');
    const script = planStep.run;
    assert.match(script, new RegExp(`\\n\\s*${ExitCode.ok}\\)`), `a case for exit code ${ExitCode.ok}`);
    assert.match(script, new RegExp(`\\n\\s*${ExitCode.stale}\\)[^;]*gh workflow run build\\.yml`), `exit code ${ExitCode.stale} starts build.yml`);
    assert.match(script, /\n\s*\*\)[^;]*exit "?\$status"?/, 'any other exit code fails the step');
  });
});

describe('docs/*.md code blocks', () => {
  it('run imagewright commands and options that exist', () => {
    const pages = readdirSync(docsDir).filter((f) => f.endsWith('.md'));
    assert.ok(pages.length > 0, 'docs has pages');
    const invocations = pages.flatMap((page) => {
      const text = readFileSync(join(docsDir, page), 'utf8');
      // Every fenced block, so that a yaml block's closing fence never opens a shell block.
      return [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```/gm)]
        .filter((m) => ['', 'sh', 'bash', 'shell', 'console'].includes(m[1] ?? ''))
        .flatMap((m) => imagewrightInvocations(m[2] ?? '', `docs/${page}`));
    });
    assert.ok(invocations.length > 0, 'the docs show imagewright commands');
    assertValid(invocations);
  });
});

describe('action.yml', () => {
  const doc = parseDocument(readFileSync(join(repoRoot, 'action.yml'), 'utf8'));
  const action = doc.toJS() as {
    inputs?: Record<string, unknown>;
    outputs?: Record<string, { value?: string }>;
    runs?: { using?: string; steps?: Step[] };
  };

  it('is a composite action that installs the packed tarball from its own checkout, then runs the command input', () => {
    assert.deepEqual(doc.errors.map((e) => e.message), [], 'valid YAML');
    assert.equal(action.runs?.using, 'composite');
    assert.ok(action.inputs && 'command' in action.inputs, 'a command input');
    const scripts = (action.runs?.steps ?? []).map((s) => s.run ?? '').join('\n');
    assert.match(scripts, /bash "\$GITHUB_ACTION_PATH\/scripts\/install\.sh"/, 'installs with scripts/install.sh from the action\'s checkout');
    assert.match(scripts, /imagewright \$IMAGEWRIGHT_COMMAND/, 'runs the command input');
  });

  it('passes on every step output the CLI writes to $GITHUB_OUTPUT', () => {
    const written = [
      githubOutputLines({ legs: [], waves: 0 } as unknown as Parameters<typeof githubOutputLines>[0]),
      planGithubOutputs({ platforms: [], indexes: [] }),
    ]
      .join('')
      .split('\n')
      .filter((l) => l)
      .map((l) => l.slice(0, l.indexOf('=')));
    assert.ok(written.length > 0);
    for (const name of written) {
      assert.equal(action.outputs?.[name]?.value, `\${{ steps.run.outputs.${name} }}`, `action.yml passes on the ${name} output`);
    }
  });
});
