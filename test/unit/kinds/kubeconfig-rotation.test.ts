/**
 * The kubeconfig kind's rotation order and its consumers on a first run: with consumers, one LB
 * node at a time and the VIP holders last; a consumer that does not exist yet is not restarted
 * (the command really run by /bin/sh here, against this machine's docker and systemd).
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { throughChecks, throughProbe } from '../../../src/kinds/kubeconfig/checks.js';
import playbook, { oneAtATimeHoldersLast } from '../../../src/kinds/kubeconfig/playbook.js';
import type { HostInfo } from '../../../src/playbook/define.js';

const host = (name: string, kubeconfig: Record<string, unknown>): HostInfo => ({ name, address: `198.18.0.${name.slice(2)}`, groups: ['lb'], vars: { kubeconfig: { consumers: [], vips: [], ...kubeconfig } } } as unknown as HostInfo);
const addr = (vip?: string) => ({ stdout: `2: eth0    inet 198.18.0.11/24 scope global eth0\n${vip ? `2: eth0    inet ${vip}/32 scope global eth0\n` : ''}`, stderr: '', code: 0 });

describe('kubeconfig rotation: one node at a time, the VIP holder last; a consumer not there yet is left alone', () => {
  const CASES: [title: string, kc: Record<string, unknown>, holder: string | undefined, want: string[][]][] = [
    ['consumers and VIPs: backups one by one, then the holder', { consumers: [{ container: 'keepalived', action: 'restart' }], vips: ['198.18.0.201'] }, 'lb11', [['lb12'], ['lb13'], ['lb11']]],
    ['consumers, no VIP held (or none named): one by one in inventory order', { consumers: [{ service: 'keepalived', action: 'reload' }], vips: ['198.18.0.201'] }, undefined, [['lb11'], ['lb12'], ['lb13']]],
    ['no consumer: nothing restarts, all nodes at once', {}, 'lb11', [['lb11', 'lb12', 'lb13']]],
  ];
  for (const [title, kc, holder, want] of CASES) {
    it(title, () => {
      const hosts = ['lb11', 'lb12', 'lb13'].map((n) => host(n, kc));
      const probes = new Map(hosts.map((h) => [h.name, addr(h.name === holder ? '198.18.0.201' : undefined)]));
      assert.deepEqual(oneAtATimeHoldersLast(hosts, probes).map((b) => b.map((h) => h.name)), want);
    });
  }

  it('a container or a service that does not exist yet (a first run): no restart, said so, not counted as a change', () => {
    const play = playbook.plays[0]!;
    const ctx = { ...host('lb11', { consumers: [{ container: 'lbdeploy-no-such-container', action: 'restart' }, { service: 'lbdeploy-no-such-service', action: 'restart' }] }), inventory: [] };
    const handlers = typeof play.handlers === 'function' ? play.handlers(ctx as never) : play.handlers!;
    assert.deepEqual(Object.keys(handlers), ['kubeconfig consumer container lbdeploy-no-such-container', 'kubeconfig consumer service lbdeploy-no-such-service']);
    for (const op of Object.values(handlers)) {
      const planned = op.plan(new Map(), { check: false, diff: false, allowReboot: false });
      assert.equal(planned.kind, 'change');
      const script = (planned as { script: { text: string } }).script.text;
      const stdout = execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8' });
      assert.match(stdout, /does not exist yet: it reads the kubeconfigs when it starts/);
      assert.equal(op.result?.({ stdout, stderr: '', code: 0, signal: null }).changed, false, 'not reported as a restart');
    }
  });
});

describe('kubeconfig verify_server: a read through the control-plane endpoint with each kubeconfig', () => {
  it('the probe runs the check on every file with the endpoint and reports each exit, read by /bin/sh here', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-through-'));
    try {
      // A stand-in for the check script: records its arguments, fails for the second file.
      const check = join(dir, 'check');
      writeFileSync(check, `#!/bin/sh\necho "$1 $2 $LBDEPLOY_CHECK_TIMEOUT" >> ${dir}/calls\ncase "$1" in *02.conf) echo "curl: (7) Failed to connect"; echo "the API at $2 refused the connection or the certificate" >&2; exit 1;; esac\necho kubectl\n`, { mode: 0o755 });
      mkdirSync(join(dir, 'kc'));
      for (const f of ['kubecfg01.conf', 'kubecfg02.conf']) writeFileSync(join(dir, 'kc', f), 'apiVersion: v1\n');
      const probe = throughProbe(join(dir, 'kc'), 'https://198.18.0.100:6443', check);
      const out = execFileSync('/bin/sh', ['-c', probe.command.text], { encoding: 'utf8' });
      // Both at once (any order), each within 1 s.
      assert.deepEqual(readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').sort(), [`${dir}/kc/kubecfg01.conf https://198.18.0.100:6443 1`, `${dir}/kc/kubecfg02.conf https://198.18.0.100:6443 1`]);
      const checks = throughChecks('lb1', 'https://198.18.0.100:6443', out);
      assert.deepEqual(checks.map((c) => `${c.target} ${c.severity}`), [`lb1 ${dir}/kc/kubecfg01.conf ok`, `lb1 ${dir}/kc/kubecfg02.conf critical`]);
      assert.equal(checks[0]!.detail, 'read the API through https://198.18.0.100:6443 with its credentials (kubectl)', 'names the client that read');
      assert.match(checks[1]!.detail, /failed \(exit 1\): the API at https:\/\/198\.18\.0\.100:6443 refused the connection or the certificate$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a node with no kubeconfig to read with is critical', () => {
    assert.deepEqual(throughChecks('lb1', 'https://198.18.0.100:6443', '').map((c) => `${c.severity} ${c.detail}`), ['critical no kubeconfig on the node to read with']);
    assert.deepEqual(throughChecks('lb1', 'https://198.18.0.100:6443', '', 'no answer within 5 s').map((c) => `${c.severity} ${c.detail}`), ['critical not read: no answer within 5 s'], 'a failed probe is said as such');
  });
});
