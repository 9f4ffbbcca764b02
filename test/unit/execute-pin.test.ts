import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { pinReads, withDigest } from '../../src/execute/inputs.js';
import { pinDockerfile, type DockerfilePin } from '../../src/execute/pin.js';
import type { ClassifiedRead } from '../../src/graph/types.js';
import type { FromImageRecord } from '../../src/imageinfo/types.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;

const pin = (line: number, instruction: DockerfilePin['instruction'], ref: string, digest: string): DockerfilePin => ({
  line,
  instruction,
  ref,
  pinned: `${ref}@${digest}`,
});

describe('pinDockerfile', () => {
  it('replaces an ARG-substituted FROM image word whole, leaving flags and the stage name', () => {
    const text = ['ARG BASE=127.0.0.1:5000/base/busybox:1', 'FROM --platform=$BUILDPLATFORM ${BASE} AS build', 'RUN true', ''].join('\n');
    const out = pinDockerfile(text, [pin(2, 'FROM', '127.0.0.1:5000/base/busybox:1', D1)]);
    assert.equal(
      out,
      ['ARG BASE=127.0.0.1:5000/base/busybox:1', `FROM --platform=$BUILDPLATFORM 127.0.0.1:5000/base/busybox:1@${D1} AS build`, 'RUN true', ''].join('\n'),
    );
  });

  it('pins COPY --from=<image> and ADD --from=<image> but not COPY --from=<stage>', () => {
    const text = [
      'FROM reg.example/base:1 AS build',
      'RUN make',
      'FROM reg.example/runtime:2',
      'COPY --from=build /out /app',
      'COPY --chown=1:1 --from=reg.example/tools:3 /bin/tool /usr/bin/tool',
      'ADD --from=reg.example/assets:4 a b',
      '',
    ].join('\n');
    const out = pinDockerfile(text, [
      pin(1, 'FROM', 'reg.example/base:1', D1),
      pin(3, 'FROM', 'reg.example/runtime:2', D2),
      pin(5, 'COPY', 'reg.example/tools:3', D3),
      pin(6, 'ADD', 'reg.example/assets:4', D1),
    ]);
    assert.equal(
      out,
      [
        `FROM reg.example/base:1@${D1} AS build`,
        'RUN make',
        `FROM reg.example/runtime:2@${D2}`,
        'COPY --from=build /out /app',
        `COPY --chown=1:1 --from=reg.example/tools:3@${D3} /bin/tool /usr/bin/tool`,
        `ADD --from=reg.example/assets:4@${D1} a b`,
        '',
      ].join('\n'),
    );
  });

  it('pins RUN --mount from= across continuation lines, keeping comments, other mounts and stage mounts', () => {
    const text = [
      'FROM scratch AS files',
      'FROM reg.example/base:1',
      'RUN --mount=type=bind,from=reg.example/tools:3,target=/tools \\',
      '    # the cache survives between builds',
      '    --mount=type=cache,target=/root/.cache \\',
      '    --mount=type=bind,from=files,target=/files \\',
      '    --mount=type=bind,target=/more,from=reg.example/more:9 \\',
      '    /tools/run',
      '',
    ].join('\n');
    const out = pinDockerfile(text, [
      pin(2, 'FROM', 'reg.example/base:1', D1),
      pin(3, 'MOUNT', 'reg.example/tools:3', D2),
      // Any line of a multi-line instruction names it.
      pin(7, 'MOUNT', 'reg.example/more:9', D3),
    ]);
    assert.equal(
      out,
      [
        'FROM scratch AS files',
        `FROM reg.example/base:1@${D1}`,
        `RUN --mount=type=bind,from=reg.example/tools:3@${D2},target=/tools \\`,
        '    # the cache survives between builds',
        '    --mount=type=cache,target=/root/.cache \\',
        '    --mount=type=bind,from=files,target=/files \\',
        `    --mount=type=bind,target=/more,from=reg.example/more:9@${D3} \\`,
        '    /tools/run',
        '',
      ].join('\n'),
    );
  });

  it('gives variable words the remaining pins in order', () => {
    const text = ['ARG TOOLS', 'FROM scratch', 'RUN --mount=from=${TOOLS},target=/t --mount=from=reg.example/lit:1,target=/l true', ''].join('\n');
    const out = pinDockerfile(text, [pin(3, 'MOUNT', 'reg.example/lit:1', D1), pin(3, 'MOUNT', 'reg.example/tools:7', D2)]);
    assert.equal(
      out,
      ['ARG TOOLS', 'FROM scratch', `RUN --mount=from=reg.example/tools:7@${D2},target=/t --mount=from=reg.example/lit:1@${D1},target=/l true`, ''].join('\n'),
    );
  });

  it('pins the # syntax= directive', () => {
    const text = ['# syntax=docker/dockerfile:1.7', '# escape=\\', 'FROM reg.example/base:1', ''].join('\n');
    const out = pinDockerfile(text, [
      pin(1, 'SYNTAX', 'docker/dockerfile:1.7', D1),
      pin(3, 'FROM', 'reg.example/base:1', D2),
    ]);
    assert.equal(out, [`# syntax=docker/dockerfile:1.7@${D1}`, '# escape=\\', `FROM reg.example/base:1@${D2}`, ''].join('\n'));
  });

  it('pins a FROM split over lines and keeps CRLF line ends', () => {
    const text = ['FROM \\', '  reg.example/base:1 \\', '  AS final', 'LABEL a=b', ''].join('\r\n');
    const out = pinDockerfile(text, [pin(1, 'FROM', 'reg.example/base:1', D1)]);
    assert.equal(out, ['FROM \\', `  reg.example/base:1@${D1} \\`, '  AS final', 'LABEL a=b', ''].join('\r\n'));
  });

  it('leaves stage references and unpinned instructions byte for byte', () => {
    const text = ['FROM reg.example/base:1 AS a', 'FROM a AS b', 'COPY --from=a / /', 'FROM b', 'ONBUILD COPY --from=reg.example/x:1 / /', ''].join('\n');
    assert.equal(pinDockerfile(text, []), text);
    const out = pinDockerfile(text, [pin(1, 'FROM', 'reg.example/base:1', D1)]);
    assert.equal(out, text.replace('reg.example/base:1 AS a', `reg.example/base:1@${D1} AS a`));
  });

  it('re-pins a reference that already names a digest', () => {
    const written = `reg.example/base:1@${D1}`;
    const text = `FROM ${written}\n`;
    const out = pinDockerfile(text, [{ line: 1, instruction: 'FROM', ref: written, pinned: `reg.example/base:1@${D2}` }]);
    assert.equal(out, `FROM reg.example/base:1@${D2}\n`);
  });

  it('pins inside an ONBUILD trigger, quoted values included, and only the first word of # syntax=', () => {
    const text = [
      '#syntax=docker/dockerfile:1 ignored-words',
      'FROM reg.example/base:1 AS template',
      'ONBUILD COPY --from="reg.example/x:1" /a /b',
      'ONBUILD RUN --mount=type=bind,from=reg.example/y:1,target=/y true',
      'FROM template',
      '',
    ].join('\n');
    const out = pinDockerfile(text, [
      pin(1, 'SYNTAX', 'docker/dockerfile:1', D3),
      pin(3, 'ONBUILD', 'reg.example/x:1', D1),
      pin(4, 'ONBUILD', 'reg.example/y:1', D2),
    ]);
    assert.equal(
      out,
      [
        `#syntax=docker/dockerfile:1@${D3} ignored-words`,
        'FROM reg.example/base:1 AS template',
        `ONBUILD COPY --from=reg.example/x:1@${D1} /a /b`,
        `ONBUILD RUN --mount=type=bind,from=reg.example/y:1@${D2},target=/y true`,
        'FROM template',
        '',
      ].join('\n'),
    );
  });

  it('refuses a pin it cannot place, naming the file and line', () => {
    const text = ['FROM reg.example/base:1', 'COPY --from=reg.example/other:1 / /', ''].join('\n');
    assert.throws(
      () => pinDockerfile(text, [pin(2, 'COPY', 'reg.example/tools:3', D1)], 'src/app/Dockerfile'),
      (error: unknown) => error instanceof InputError && /^src\/app\/Dockerfile: line 2: cannot pin reg\.example\/tools:3/.test(error.message),
    );
    assert.throws(() => pinDockerfile(text, [pin(1, 'MOUNT', 'reg.example/tools:3', D1)]), /line 1: cannot pin .*no RUN --mount from/);
  });
});

describe('pinReads', () => {
  const read = (instruction: ClassifiedRead['read']['instruction'], ref: string, line: number, internal?: string): ClassifiedRead => {
    const classified: ClassifiedRead = { read: { stage: '1', stageIndex: 1, instruction, ref, line }, ref: withDigest(ref, D1).split('@')[0] as string, platform: 'linux/amd64' };
    if (internal) classified.internal = internal;
    return classified;
  };
  const record = (r: ClassifiedRead, digest: string): FromImageRecord => ({
    stage: r.read.stage,
    instruction: r.read.instruction,
    ref: r.ref,
    digest,
    internal: r.internal !== undefined,
  });

  it('pins external reads to the planned digest; ONBUILD only when the trigger runs in this build', () => {
    const reads = [read('FROM', 'reg.example/base:1', 1), read('ONBUILD', 'reg.example/run-here:1', 2), read('ONBUILD', 'reg.example/published:1', 5)];
    const pinned = pinReads(reads, [record(reads[0]!, D1), record(reads[1]!, D2), record(reads[2]!, D3)], () => undefined, { finalStageLine: 4 });
    assert.deepEqual(
      pinned.pins.map((p) => [p.line, p.pinned]),
      [
        [1, `reg.example/base:1@${D1}`],
        [2, `reg.example/run-here:1@${D2}`],
      ],
    );
    assert.equal(pinned.used[2], undefined);
  });

  it('refuses an external read without a resolved digest', () => {
    const reads = [read('FROM', 'reg.example/base:1', 1)];
    assert.throws(() => pinReads(reads, [record(reads[0]!, '')], () => undefined), /no resolved digest/);
  });

  it("pins an internal read to the upstream's pushed digest, else to a tag the local engine has", () => {
    const reads = [read('FROM', '127.0.0.1:5000/base:shared', 1, 'base:own')];
    const records = [record(reads[0]!, '')];
    const pushed = pinReads(reads, records, () => ({ digest: D2, localRefs: [] }));
    assert.equal(pushed.pins[0]?.pinned, `127.0.0.1:5000/base:shared@${D2}`);
    assert.equal(pushed.fromImages[0]?.digest, D2, 'the record names the digest the build used');
    const local = pinReads(reads, records, () => ({ digest: '', localRefs: ['127.0.0.1:5000/base:own'] }));
    assert.equal(local.pins[0]?.pinned, '127.0.0.1:5000/base:own');
    assert.equal(local.fromImages[0]?.digest, '');
    const sameTag = pinReads(reads, records, () => ({ digest: '', localRefs: ['127.0.0.1:5000/base:shared'] }));
    assert.deepEqual(sameTag.pins, []);
  });
});

describe('pinReads under --registry-override, --repo-prefix and the base override', () => {
  const PUBLIC = 'mcr.microsoft.com/dotnet-buildtools/prereqs:builder';
  const STAGED = '127.0.0.1:5000/stage-1/dotnet-buildtools/prereqs:builder';
  const internal: ClassifiedRead = {
    read: { stage: '0', stageIndex: 0, instruction: 'FROM', ref: PUBLIC, line: 1 },
    ref: PUBLIC,
    source: STAGED,
    platform: 'linux/amd64',
    internal: 'dotnet-buildtools/prereqs:builder',
  };
  const record = (r: ClassifiedRead, digest: string): FromImageRecord => ({ stage: '0', instruction: 'FROM', ref: r.ref, digest, internal: r.internal !== undefined });

  it('reads the internal image from the staged location at the digest, never from the public name', () => {
    const pinned = pinReads([internal], [record(internal, '')], () => ({ digest: D2, localRefs: [] }));
    assert.equal(pinned.pins[0]?.pinned, `${STAGED}@${D2}`);
    const local = pinReads([internal], [record(internal, '')], () => ({ digest: '', localRefs: [STAGED] }));
    assert.equal(local.pins[0]?.pinned, STAGED, 'a build without --push reads the staged tag the engine has');
  });

  it('reads an overridden external image from the mirror, at the digest resolved there', () => {
    const external: ClassifiedRead = {
      read: { stage: '0', stageIndex: 0, instruction: 'FROM', ref: 'ubuntu:24.04', line: 1 },
      ref: 'docker.io/library/ubuntu:24.04',
      source: 'mirror.example/ubuntu:24.04',
      platform: 'linux/amd64',
    };
    const pinned = pinReads([external], [record(external, D3)], () => undefined);
    assert.equal(pinned.pins[0]?.pinned, `mirror.example/ubuntu:24.04@${D3}`);
    assert.equal(pinned.fromImages[0]?.ref, 'docker.io/library/ubuntu:24.04', 'the record keeps the name the Dockerfile reads');
  });
});
