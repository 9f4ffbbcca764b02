import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planGithubOutputs, renderPlanGithub } from '../../src/plan/github.js';
import { shortDigest as short } from '../../src/digest.js';
import type { Plan } from '../../src/plan/types.js';
import { analysis, fromOnly, makeManifest, planOf, REGISTRY, World } from '../helpers/plan-fixtures.js';

const DEBIAN = 'docker.io/library/debian:12';
const GOLANG = 'docker.io/library/golang:1.22';

/** r:base FROM debian; r:app FROM r:base and COPY --from golang; r:tool FROM debian; r:lone FROM golang. */
function world(): World {
  const manifest = makeManifest([
    {
      name: 'r',
      images: [
        { platforms: [{ dockerfile: 'src/base', tags: ['base'] }] },
        { platforms: [{ dockerfile: 'src/app', tags: ['app'] }] },
        { platforms: [{ dockerfile: 'src/tool', tags: ['tool'] }] },
        { platforms: [{ dockerfile: 'src/lone', tags: ['lone'] }] },
      ],
    },
  ]);
  return World.of(manifest, {
    'r:base': fromOnly('debian:12'),
    'r:app': analysis([{ from: `${REGISTRY}/r:base`, copyFrom: ['golang:1.22'] }]),
    'r:tool': fromOnly('debian:12'),
    'r:lone': fromOnly('golang:1.22'),
  });
}

/** debian:12 was republished since the baseline: three platforms stale, one still fresh. */
function debianMoved(): { plan: Plan; oldDigest: string; newDigest: string } {
  const w = world();
  const info = w.baseline();
  const oldDigest = w.externalDigest(DEBIAN, 'linux/amd64');
  w.bumpExternal(DEBIAN);
  return { plan: w.plan(info), oldDigest, newDigest: w.externalDigest(DEBIAN, 'linux/amd64') };
}

function tableRows(markdown: string): string[] {
  return markdown.split('\n').filter((l) => l.startsWith('| `'));
}

describe('plan --format github: step summary', () => {
  it('stale: heading with counts, the upstream digest move, one table row per stale platform with why', () => {
    const { plan, oldDigest, newDigest } = debianMoved();
    const md = renderPlanGithub(plan);
    const move = `\`${DEBIAN}\`: \`${short(oldDigest)}\` → \`${short(newDigest)}\``;

    assert.match(md, /^## imagewright plan: 3 of 4 platforms stale\n/);
    assert.match(md, /\*\*3 to build\*\*, 1 to reuse\./);
    // The moved image, once, with how many stale platforms read it directly (base and tool; app only through base).
    assert.ok(md.includes(`### Upstream images that moved\n\n- ${move} (read directly by 2 stale platforms)\n`), md);
    assert.equal(md.split(short(newDigest)).length - 1, 3, 'the new digest appears in the move list and in two rows');

    const rows = tableRows(md);
    assert.deepEqual(rows, [
      `| \`r:base\` | \`src/base/Dockerfile\` | FROM in stage 0: ${move} |`,
      '| `r:app` | `src/app/Dockerfile` | upstream rebuilt: `r:base` → `r:app` |',
      `| \`r:tool\` | \`src/tool/Dockerfile\` | FROM in stage 0: ${move} |`,
    ]);
    assert.ok(!md.includes('r:lone'), 'a fresh platform is not listed');
  });

  it('stale: several reasons share one cell; other reasons show their detail', () => {
    const w = world();
    const info = w.baseline();
    w.bumpExternal(GOLANG);
    w.changeDockerfile('r:app');
    const md = renderPlanGithub(w.plan(info));
    const app = tableRows(md).find((r) => r.startsWith('| `r:app`'));
    assert.ok(app, md);
    const cells = app.split(' | ');
    assert.equal(cells.length, 3, `one row, three cells: ${app}`);
    const reasons = (cells[2] ?? '').replace(/ \|$/, '').split('<br>');
    assert.equal(reasons.length, 2, app);
    assert.match(reasons[0] ?? '', /^src\/app\/Dockerfile changed \(sha256:[0-9a-f]{12} → sha256:[0-9a-f]{12}\)$/);
    assert.match(reasons[1] ?? '', /^COPY --from in stage 0: `docker\.io\/library\/golang:1\.22`: `sha256:[0-9a-f]{12}` → `sha256:[0-9a-f]{12}`$/);
    assert.match(md, /read directly by 2 stale platforms/, 'golang is read by app and lone');
  });

  it('escapes Markdown in reasons: a context file named a|b_c* keeps the table intact', () => {
    const w = world();
    const info = w.baseline();
    w.setContextFile('r:tool', 'a|b_c*', 'sha256:1');
    const rows = tableRows(renderPlanGithub(w.plan(info)));
    assert.deepEqual(rows, ['| `r:tool` | `src/tool/Dockerfile` | build context changed: added a\\|b\\_c\\* |']);
  });

  it('fresh: says everything is up to date and has no table', () => {
    const w = world();
    const info = w.baseline();
    const plan = w.plan(info);
    planOf(plan, 'r:tool').newTags.push('tool-2');
    const md = renderPlanGithub(plan);
    assert.equal(
      md,
      '## imagewright plan: up to date\n\nAll 4 platforms can be reused; nothing to build. 1 reused platform gains new tags without a rebuild.\n',
    );
  });
});

describe('plan --format github: moved tags', () => {
  it('a tag moved by hand: not up to date, stale=true, and a table saying which tag names what', () => {
    const w = world();
    const info = w.baseline();
    w.movedTags.set(`${REGISTRY}/r:tool`, 'sha256:' + 'e'.repeat(64));
    const plan = w.plan(info);
    const md = renderPlanGithub(plan);
    assert.ok(md.startsWith('## imagewright plan: 1 moved tag to put back\n\n**0 to build**, 4 to reuse.'), md);
    assert.ok(md.includes('| 0 | 4 | 1 | 0 | 4 |'), 'counted as re-tagged');
    assert.ok(md.includes('### Moved tags, put back on the recorded image without a rebuild'), md);
    assert.deepEqual(
      md.split('\n').filter((l) => l.startsWith('| `r:tool`')),
      [`| \`r:tool\` | tag tool names sha256:eeeeeeeeeeee, not the recorded image ${short(planOf(plan, 'r:tool').previous?.digest ?? '')} |`],
    );
    assert.equal(planGithubOutputs(plan), 'stale=true\nbuild-count=0\npublish-count=0\n');
  });
});

describe('plan --format github: step outputs', () => {
  it('stale=true and the number of platforms to build', () => {
    assert.equal(planGithubOutputs(debianMoved().plan), 'stale=true\nbuild-count=3\npublish-count=0\n');
  });

  it('stale=false and build-count=0 when nothing must build', () => {
    const w = world();
    assert.equal(planGithubOutputs(w.plan(w.baseline())), 'stale=false\nbuild-count=0\npublish-count=0\n');
  });
});

describe('plan --format github: the affected subgraph', () => {
  it('Mermaid of the platforms that build and the reused images they read, a counts table, the report link', () => {
    const w = world();
    const info = w.baseline();
    w.changeDockerfile('r:app');
    w.bumpExternal(GOLANG);
    const plan = w.plan(info);
    const md = renderPlanGithub(plan, { edges: w.graph().edges, reportUrl: 'https://github.com/o/r/actions/runs/1' });
    assert.ok(md.includes('| Build | Reuse | of which re-tagged | Indexes to publish | Platforms |\n| ---: | ---: | ---: | ---: | ---: |\n| 2 | 2 | 0 | 0 | 4 |'), md);
    assert.ok(md.includes('[HTML report](https://github.com/o/r/actions/runs/1)'), md);
    const mermaid = /```mermaid\n([\s\S]*?)\n```/.exec(md)?.[1] ?? '';
    assert.deepEqual(mermaid.split('\n').slice(0, 5), [
      'flowchart LR',
      '  n_r_base["r:base"]:::reuse',
      '  n_r_app["r:app"]:::build',
      '  n_r_lone["r:lone"]:::build',
      '  n_r_base --> n_r_app',
    ]);
    assert.doesNotMatch(mermaid, /r:tool/, 'a reused platform no built one reads is left out');
  });

  it('over Mermaid\'s 50,000 characters: a sentence instead, and the table lists every platform', () => {
    const platforms = Array.from({ length: 2000 }, (_, i) => ({
      id: `mcr.microsoft.com/dotnet-buildtools/prereqs:platform-with-a-long-tag-${i}`,
      dockerfile: `src/p${i}/Dockerfile`,
      decision: 'build',
      reasons: [{ kind: 'new', detail: 'no previous image-info' }],
      newTags: [],
      movedTags: [],
    })) as unknown as Plan['platforms'];
    const edges = platforms.slice(1).map((p, i) => ({ from: platforms[i]?.id ?? '', to: p.id }));
    const md = renderPlanGithub({ platforms, indexes: [] }, { edges });
    assert.doesNotMatch(md, /```mermaid/);
    assert.match(md, /The graph of 2000 platforms is [\d,]+ characters of Mermaid, over its 50,000-character limit: the table below lists them\./);
    assert.equal(tableRows(md).length, 2000);
  });
});
