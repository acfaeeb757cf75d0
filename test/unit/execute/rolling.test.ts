/** `up --serial`: the pure parts of a rolling change (batches, holder last, the resume command). */
import { strict as assert } from 'node:assert';
import { batchSize, splitByHolding, parseSerial, planBatches } from '../../../src/execute/rolling.js';
import { withoutLimit } from '../../../src/cli/up.js';
import { DEFAULT_FORKS, parseForks } from '../../../src/cli/common.js';

describe('rolling changes (--serial)', () => {
  const SERIAL: [string, ReturnType<typeof parseSerial> | RegExp][] = [
    ['5', { count: 5 }], ['1', { count: 1 }], ['20%', { percent: 20 }], ['100%', { percent: 100 }],
    ['0', /--serial takes/], ['0%', /--serial takes/], ['101%', /--serial takes/], ['-1', /--serial takes/], ['a', /--serial takes/], ['5.5', /--serial takes/], ['', /--serial takes/],
  ];
  for (const [text, want] of SERIAL) {
    it(`--serial '${text}'`, () => {
      if (want instanceof RegExp) assert.throws(() => parseSerial(text), want);
      else assert.deepEqual(parseSerial(text), want);
    });
  }
  const SIZES: [ReturnType<typeof parseSerial>, number, number][] = [
    [{ count: 5 }, 25, 5], [{ count: 30 }, 25, 30], [{ percent: 20 }, 25, 5], [{ percent: 10 }, 25, 3], [{ percent: 1 }, 25, 1], [{ percent: 100 }, 7, 7],
  ];
  for (const [serial, clusters, size] of SIZES) it(`${JSON.stringify(serial)} of ${clusters} clusters: ${size} a batch`, () => assert.equal(batchSize(serial, clusters), size));
  it('batches keep the inventory order; the last one takes the rest', () => {
    assert.deepEqual(planBatches(['a', 'b', 'c', 'd', 'e'], 2), [['a', 'b'], ['c', 'd'], ['e']]);
    assert.deepEqual(planBatches(['a'], 5), [['a']]);
  });
  it('the VIP holders converge after the backups; with no holder, all first', () => {
    assert.deepEqual(splitByHolding(['lb1', 'lb2', 'lb3', 'lb4'], new Set(['lb1', 'lb3'])), { backups: ['lb2', 'lb4'], holders: ['lb1', 'lb3'] });
    assert.deepEqual(splitByHolding(['lb1', 'lb2'], new Set()), { backups: ['lb1', 'lb2'], holders: [] });
  });
  it('the resume command is the operator\'s, without its --limit', () => {
    assert.deepEqual(withoutLimit(['inv.yaml', '--serial', '5', '--limit', 'site-a', '--tags', 'haproxy']), ['inv.yaml', '--serial', '5', '--tags', 'haproxy']);
    assert.deepEqual(withoutLimit(['inv.yaml', '-l', 'x', '--limit=y', '--json']), ['inv.yaml', '--json']);
  });
  const FORKS: [string | undefined, number | RegExp][] = [[undefined, DEFAULT_FORKS], ['1', 1], ['8', 8], ['0', /--forks/], ['-2', /--forks/], ['2.5', /--forks/], ['x', /--forks/]];
  for (const [text, want] of FORKS) {
    it(`--forks ${text ?? '(not given)'}`, () => {
      if (want instanceof RegExp) assert.throws(() => parseForks(text), (e: Error) => e.name === 'UsageError' && e.message.startsWith('--forks'));
      else assert.equal(parseForks(text), want);
    });
  }
});
