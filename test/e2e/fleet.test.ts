/** A fleet on the lab: two VRRP clusters of two side by side from one inventory (inventory/lab-fleet.yaml). */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';

const LBS = ['lb1', 'lb2', 'lb3', 'lb4'];
const SITE_A = '198.18.0.110';
const SITE_B = '198.18.0.120';

async function holdersOf(vip: string): Promise<string[]> {
  const out = await Promise.all(LBS.map(async (h) => ((await onHost(h, 'ip -o addr show')).includes(` ${vip}/`) ? h : '')));
  return out.filter(Boolean);
}

describe('fleet: two clusters of two in one inventory (end-to-end on the lab)', function () {
  this.timeout(300_000);
  let inv: string;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    await Promise.all(LBS.map((h) => onHost(h, 'systemctl stop keepalived haproxy 2>/dev/null; rm -f /etc/keepalived/keepalived.conf; for a in 198.18.0.100 198.18.0.110 198.18.0.120; do ip addr del $a/24 dev eth0 2>/dev/null; done; true')));
    inv = labInventoryCopy((t) => t, 'inventory/lab-fleet.yaml');
  });

  after(async () => {
    // Leave the LB hosts as the other suites expect to find them: no fleet VIPs, keepalived stopped.
    await Promise.all(LBS.map((h) => onHost(h, 'systemctl stop keepalived 2>/dev/null; for a in 198.18.0.110 198.18.0.120; do ip addr del $a/24 dev eth0 2>/dev/null; done; true')));
  });

  it('up converges both clusters and waits until each VIP is held once', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const start = events(r.stdout).find((e) => e.type === 'wait-start') as { deployments: string[] };
    assert.deepEqual(start.deployments, ['haproxy-keepalived: VI_site_a 198.18.0.110 on lb1, lb2', 'haproxy-keepalived: VI_site_b 198.18.0.120 on lb3, lb4']);
    assert.equal((events(r.stdout).find((e) => e.type === 'wait-done') as { ready: boolean }).ready, true);
    assert.deepEqual(await holdersOf(SITE_A), ['lb1']);
    assert.deepEqual(await holdersOf(SITE_B), ['lb3']);
  });

  it('each node peers only with its own cluster, at its cluster\'s priorities', async () => {
    const peers = { lb1: '198.18.0.12', lb2: '198.18.0.11', lb3: '198.18.0.14', lb4: '198.18.0.13' } as const;
    for (const [h, peer] of Object.entries(peers)) {
      const conf = await onHost(h, 'cat /etc/keepalived/keepalived.conf');
      assert.match(conf, new RegExp(`unicast_peer \\{\\n\\s+${peer.replace(/\./g, '\\.')}\\n\\s+\\}`), `${h}\n${conf}`);
      assert.match(conf, new RegExp(`priority ${h === 'lb1' || h === 'lb3' ? 150 : 140}\\n`));
      assert.match(conf, /weight -20\n/, 'the check weight spans the cluster, not all four nodes');
    }
  });

  it('verify sees two deployments, each VIP held once, both served', async () => {
    const r = await cli(['verify', inv, '--json']);
    assert.equal(r.code, 0, r.stdout);
    const out = JSON.parse(r.stdout) as { checks: { check: string; target: string; severity: string; detail: string }[] };
    assert.deepEqual(out.checks.filter((c) => c.check === 'vip holder').map((c) => `${c.target}: ${c.detail}`), ['VI_site_a 198.18.0.110: held by lb1', 'VI_site_b 198.18.0.120: held by lb3']);
    assert.deepEqual(out.checks.filter((c) => c.check === 'curl via vip').map((c) => c.target), ['web-plain 198.18.0.110:81', 'web-plain 198.18.0.120:81']);
  });

  it('a failover in one cluster leaves the other alone', async () => {
    await onHost('lb1', 'systemctl stop keepalived');
    try {
      let a: string[] = [];
      for (let i = 0; i < 20 && a.join() !== 'lb2'; i++) {
        await new Promise((res) => setTimeout(res, 250));
        a = await holdersOf(SITE_A);
      }
      assert.deepEqual(a, ['lb2'], 'site-a moved to its backup');
      assert.deepEqual(await holdersOf(SITE_B), ['lb3'], 'site-b kept its holder');
    } finally {
      await onHost('lb1', 'systemctl start keepalived');
    }
    const r = await cli(['up', inv]);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /READY after/);
    assert.deepEqual(await holdersOf(SITE_B), ['lb3']);
  });
});
