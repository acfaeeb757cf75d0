import { strict as assert } from 'node:assert';
import { formatError, table } from '../../../src/report/console.js';
import { ConnectionError } from '../../../src/errors.js';

describe('console output', () => {
  it('aligns a table on the widest cell', () => {
    assert.equal(table(['HOST', 'SSH'], [['lb1', 'ok'], ['client', 'no']]),
      'HOST    SSH\nlb1     ok\nclient  no');
  });

  it('formats typed errors with where and what to do', () => {
    const e = new ConnectionError('SSH timed out', { where: 'lb2', hint: 'check the host' });
    assert.equal(formatError(e), 'error: lb2: SSH timed out\n  → check the host');
    assert.equal(formatError(new Error('plain')), 'error: plain');
    assert.equal(formatError({ exitCode: 2, stderr: 'boom\n' }), 'error: a local command failed (exit 2): boom');
  });
});

describe('timings summary (--timings)', () => {
  it('phase totals first, then the slowest hosts, slowest first', async () => {
    const { timingsTable } = await import('../../../src/report/render.js');
    const text = timingsTable({
      type: 'timings', ms: 2500, totals: { connect: 300, authenticate: 150, lock: 60, facts: 900 },
      hosts: { a: { connect: 100, authenticate: 50, lock: 20, facts: 300 }, b: { connect: 200, authenticate: 100, lock: 40, facts: 12_600 } },
    }, 1);
    const lines = text.split('\n');
    assert.match(lines[0]!, /^TIMINGS +connect +authenticate +lock +facts +apply +handlers +wait +total$/);
    assert.match(lines[1]!, /^all 2 host\(s\) +300ms +150ms +60ms +900ms +- +- +- +1410ms$/);
    assert.match(lines[2]!, /^b +200ms +100ms +40ms +12\.6s /, 'the slowest host only');
    assert.equal(lines.length, 4);
    assert.match(lines[3]!, /the run took 2\.5 s/);
  });
});
