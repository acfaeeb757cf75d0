import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { disruptiveChange } from '../../../src/execute/drain.js';
import { drainWith } from '../../../src/lb-blocks/rolling.js';
import { command } from '../../../src/operations/command.js';
import { sh } from '../../../src/connection/shell.js';
import type { HostInfo } from '../../../src/playbook/define.js';

const CTX = { diff: false, check: false, allowReboot: false };

describe('drain before a disruptive change', () => {
  const cases: [string, ReturnType<typeof command>[], boolean][] = [
    ['no step marked disruptive', [command({ cmd: sh`systemctl restart keepalived` })], false],
    ['a disruptive step that will run', [command({ cmd: sh`true` }), command({ cmd: sh`systemctl restart keepalived`, disruptive: true })], true],
    ['a disruptive step with nothing to do (creates: the file exists)', [command({ cmd: sh`x`, creates: '/etc/x', disruptive: true })], false],
  ];
  for (const [what, steps, want] of cases) {
    it(`${what}: ${want ? 'drain' : 'no drain'}`, () => {
      const facts = new Map(steps.flatMap((s) => s.facts(CTX)).map((f) => [f.key, { stdout: 'file 0644 0 0 1 -', code: 0 }]));
      assert.equal(disruptiveChange(steps, facts, CTX), want);
    });
  }

  it('drainWith: the drain file set and cleared; moved once the node holds none of its VIPs (run under /bin/sh with a stand-in ip)', () => {
    const h = { name: 'lb1', address: '198.18.0.11', groups: ['lb'], vars: {} } as unknown as HostInfo;
    const d = drainWith('/tmp/lbdeploy-drain-test', () => ['198.18.0.100', '2001:2::100'])({ ...h, inventory: { hosts: [] } } as never);
    assert.equal(d.set.text, 'echo 1 > /tmp/lbdeploy-drain-test');
    const moved = (addrs: string) => spawnSync('/bin/sh', ['-c', `ip() { printf '%s\\n' ${JSON.stringify(addrs)}; }; ${d.moved.text}`]).status;
    assert.equal(moved('2: eth0    inet 198.18.0.11/24 scope global eth0'), 0, 'no VIP here: moved');
    assert.equal(moved('2: eth0    inet 198.18.0.100/24 scope global secondary eth0'), 1, 'still holds the IPv4 VIP');
    assert.equal(moved('2: eth0    inet6 2001:2::100/64 scope global'), 1, 'still holds the IPv6 VIP');
    assert.equal(moved('2: eth0    inet 198.18.0.1000/24 scope global'), 0, 'a longer address is not the VIP');
    assert.equal(d.holds({ stdout: '2: eth0    inet 198.18.0.100/24 scope global eth0', code: 0 }), true);
  });
});
