import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkLegFiles, legStampOf, matrixPlan, planOption, type MatrixPlan } from '../../src/matrix/index.js';

const legs = [
  { name: 'a', wave: 0, platformIds: ['p1'] },
  { name: 'b', wave: 0, platformIds: ['p2'] },
  { name: 'c', wave: 1, platformIds: ['p3'] },
];
const plan: MatrixPlan = matrixPlan({ legs: legs as never }, { manifest: 'sha256:m' });
const stamped = (file: string, leg: string, of: MatrixPlan = plan) => ({ file, stamp: { plan: of, leg } });

describe('matrix plans and leg stamps', () => {
  it('names every leg of every wave; the id changes with the legs, the files and the keys', () => {
    assert.deepEqual(plan.legs, [{ name: 'a', wave: 0 }, { name: 'b', wave: 0 }, { name: 'c', wave: 1 }]);
    assert.equal(matrixPlan({ legs: legs as never }, { manifest: 'sha256:m' }).id, plan.id);
    assert.notEqual(matrixPlan({ legs: legs as never }, { manifest: 'sha256:m', imageInfo: 'sha256:i' }).id, plan.id);
    assert.notEqual(matrixPlan({ legs: legs as never }, { manifest: 'sha256:m', buildKeys: { p1: 'sha256:k' } }).id, plan.id);
    assert.notEqual(matrixPlan({ legs: legs.slice(0, 2) as never }, { manifest: 'sha256:m' }).id, plan.id);
  });

  it('accepts every planned leg once, of one plan', () => {
    assert.equal(checkLegFiles([stamped('a.json', 'a'), stamped('b.json', 'b'), stamped('c.json', 'c')], {}), plan);
    assert.equal(checkLegFiles([stamped('a.json', 'a'), stamped('b.json', 'b')], { plan, throughWave: 0 }), plan);
  });

  it('refuses a missing leg, a leg of another plan, a leg twice, a file without a stamp', () => {
    assert.throws(() => checkLegFiles([stamped('a.json', 'a'), stamped('c.json', 'c')], {}), /a\.json: imagewrightLeg\.plan\.legs: plan \w+ has 1 leg\(s\) without a leg file among the 2 given: b \(wave 0\)/);
    assert.throws(() => checkLegFiles([stamped('a.json', 'a')], { plan, throughWave: 0 }), /^OptionError: --plan: .* b \(wave 0\)/);
    const other = { ...plan, id: 'f'.repeat(20) };
    assert.throws(() => checkLegFiles([stamped('a.json', 'a'), stamped('b.json', 'b', other), stamped('c.json', 'c')], {}), /b\.json: imagewrightLeg\.plan\.id: is f{20}: this leg file comes from another plan/);
    assert.throws(() => checkLegFiles([stamped('a.json', 'a'), stamped('a2.json', 'a'), stamped('b.json', 'b'), stamped('c.json', 'c')], {}), /a2\.json: imagewrightLeg\.leg: leg a has a file already: a\.json/);
    assert.throws(() => checkLegFiles([stamped('a.json', 'a'), { file: 'old.json', stamp: undefined }], {}), /old\.json: imagewrightLeg: is missing/);
    assert.equal(checkLegFiles([{ file: 'old.json', stamp: undefined }], {}), undefined, 'unstamped files without --plan are merged unchecked');
  });

  it('reads stamps and --plan, refusing what is not a plan', () => {
    assert.deepEqual(legStampOf('l.json', { imagewrightLeg: { plan, leg: 'a' } }), { plan, leg: 'a' });
    assert.equal(legStampOf('l.json', { repos: [] }), undefined);
    assert.throws(() => legStampOf('l.json', { imagewrightLeg: { plan: { id: 'x' }, leg: 'a' } }), /l\.json: imagewrightLeg\.plan: expected the plan/);
    assert.deepEqual(planOption(JSON.stringify(plan)), plan);
    assert.throws(() => planOption('{nope'), /--plan: is not JSON/);
    assert.throws(() => planOption('{"id":"abcdef12","legs":[{"name":"a"}]}'), /--plan: legs\[0\] is not/);
  });
});
