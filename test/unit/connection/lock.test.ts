/** The run lock's pure parts: the holder as the next run is told, and the holder's script. */
import { strict as assert } from 'node:assert';
import { describeHolder, holderOf, lockScript } from '../../../src/connection/lock.js';

describe('run lock', () => {
  const cases: [string, string, string][] = [
    ['a recorded holder', 'ops@ci-7 pid 4242: lbdeploy up inv.yaml since=1795000000', 'ops@ci-7 pid 4242: lbdeploy up inv.yaml since 2026-11-18T11:06:40Z (60 s ago)'],
    ['no record', 'unknown (no holder recorded)', 'unknown (no holder recorded)'],
    ['a clock ahead of ours', 'a@b pid 1: lbdeploy up x since=1795000100', 'a@b pid 1: lbdeploy up x since 2026-11-18T11:08:20Z (0 s ago)'],
  ];
  for (const [what, text, shown] of cases) it(`describes ${what}`, () => assert.equal(describeHolder(text, 1795000060_000), shown));

  it('names user@machine, pid and command, printable only', () => {
    assert.match(holderOf('up inventory/lab.yaml'), new RegExp(`^\\S+@\\S+ pid ${process.pid}: lbdeploy up inventory/lab.yaml$`));
    assert.doesNotMatch(holderOf('up \u00e9\n'), /[^\x20-\x7e]/);
  });

  it('quotes the holder and waits with flock -w only when asked', () => {
    const s = lockScript("x'; rm -rf / #", 0).text;
    assert.ok(s.includes(`printf '%s since=%s\\n' 'x'\\''; rm -rf / #' "$(date +%s)"`), s);
    assert.match(s, /if \[ 0 -le 0 \]/);
    assert.match(lockScript('h', 30).text, /flock -w 30 9/);
  });
});
