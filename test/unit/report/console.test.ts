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
