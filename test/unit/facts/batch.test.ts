import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/connection/shell.js';
import { batchFacts } from '../../../src/facts/batch.js';
import { parsePathFact, pathFactRequest, normMode } from '../../../src/facts/file.js';

/** Facts are parsed from what a real POSIX shell prints for the batch script. */
function runLocally(script: string): string {
  return execFileSync('/bin/sh', ['-c', script]).toString();
}

describe('facts: one batch, many probes', () => {
  it('cuts the output into sections by probe, with exit codes, whatever the probes print', () => {
    const batch = batchFacts([
      { key: 'a', command: sh`printf 'one\\ntwo'` },
      { key: 'b', command: sh`echo '@@lbd fake marker'; exit 3` },
      { key: 'c', command: sh`printf ''` },
      { key: 'a', command: sh`echo duplicate-is-dropped` },
      { key: 'd', command: sh`echo to-stderr >&2; echo out` },
    ]);
    const facts = batch.parse(runLocally(batch.script.text));
    assert.deepEqual(facts.get('a'), { stdout: 'one\ntwo', code: 0 });
    assert.deepEqual(facts.get('b'), { stdout: '@@lbd fake marker\n', code: 3 });
    assert.deepEqual(facts.get('c'), { stdout: '', code: 0 });
    assert.deepEqual(facts.get('d'), { stdout: 'out\n', code: 0 });
    assert.equal(facts.size, 4);
  });

  it('reads file, directory and absent path facts (with content for diffs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-facts-'));
    try {
      writeFileSync(join(dir, 'f'), 'hello\n', { mode: 0o640 });
      const reqs = [pathFactRequest(join(dir, 'f'), true), pathFactRequest(dir), pathFactRequest(join(dir, 'none'))];
      const batch = batchFacts(reqs);
      const facts = batch.parse(runLocally(batch.script.text));
      const f = parsePathFact(facts.get(reqs[0]!.key)!);
      assert.equal(f.kind, 'file');
      if (f.kind === 'file') {
        assert.equal(f.mode, '0640');
        assert.equal(f.size, 6);
        assert.equal(f.sha256, '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
        assert.equal(f.content, 'hello\n');
      }
      assert.equal(parsePathFact(facts.get(reqs[1]!.key)!).kind, 'dir');
      assert.deepEqual(parsePathFact(facts.get(reqs[2]!.key)!), { kind: 'absent' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const modes: [string | number, string][] = [['644', '0644'], ['0600', '0600'], [0o755, '0755'], ['0o640', '0640']];
  for (const [input, out] of modes) it(`normalises mode ${String(input)} to ${out}`, () => assert.equal(normMode(input), out));
});
