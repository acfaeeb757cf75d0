/** The network pre-flight on the lab: VRRP blocked on one node, a foreign router planted, and up refusing before keepalived changes. */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { sendAdverts, vrrpV2Advert } from '../helpers/vrrp.js';

interface Result { ok: boolean; clusters: { deployment: string; issues: { host: string; where?: string; message: string }[] }[] }
const LBS = ['198.18.0.11', '198.18.0.12', '198.18.0.13'];

describe('preflight: VRRP between the LB nodes, foreign routers on the VRIDs (end-to-end on the lab)', function () {
  this.timeout(300_000);
  let inv: string;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    inv = labInventoryCopy();
    // The cluster deployed (socat on the nodes): the pre-flight probes with it.
    const up = await cli(['up', inv, '--json']);
    assert.equal(up.code, 0, up.stdout + up.stderr);
  });

  it('passes on the lab: every pair hears the other in both families, no foreign VRID', async () => {
    const r = await cli(['preflight', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as Result;
    assert.equal(out.ok, true);
    assert.equal(out.clusters.length, 1);
  });

  it('finds the node that drops VRRP (IPv4 and IPv6), naming the hosts, the VRIDs and the inventory line', async () => {
    await onHost('lb3', 'iptables -I INPUT -p 112 -j DROP && ip6tables -I INPUT -p 112 -j DROP');
    try {
      const r = await cli(['preflight', inv, '--json']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const issues = (JSON.parse(r.stdout) as Result).clusters[0]!.issues;
      assert.deepEqual(issues.map((i) => i.host), ['lb3', 'lb3', 'lb3', 'lb3'], JSON.stringify(issues));
      const text = issues.map((i) => i.message).join('\n');
      assert.match(text, /VRRP \(IP protocol 112, IPv4\) from lb1 \(198\.18\.0\.11\) does not reach lb3 \(198\.18\.0\.13\) on eth0: VRID 51/);
      assert.match(text, /VRRP \(IP protocol 112, IPv6\) from lb2 \(2001:2::12\) does not reach lb3 \(2001:2::13\) on eth0: VRID 52/);
      assert.ok(issues.every((i) => /lab\.yaml:\d+:\d+$/.test(i.where ?? '')), JSON.stringify(issues));
    } finally {
      await onHost('lb3', 'iptables -D INPUT -p 112 -j DROP; ip6tables -D INPUT -p 112 -j DROP');
    }
  });

  it('finds a foreign VRRP router advertising the cluster\'s VRID (planted from lb4)', async () => {
    // Bounded: 24 adverts to each node over 6 s, while the pre-flight listens.
    const planting = onHost('lb4', sendAdverts(vrrpV2Advert(51, 100, '198.18.0.250'), LBS, 24));
    const r = await cli(['preflight', inv, '--json']);
    await planting;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const issues = (JSON.parse(r.stdout) as Result).clusters[0]!.issues;
    assert.deepEqual(issues.map((i) => i.host), ['lb1', 'lb2', 'lb3']);
    for (const i of issues) assert.match(i.message, /a foreign VRRP router already advertises VRID 51 on lb\d's segment \(VRRPv2, priority 100, addresses 198\.18\.0\.250\): VI_lab \(198\.18\.0\.100\)/);
  });

  it('up refuses before it changes keepalived when the VRIDs change and VRRP does not pass; with VRRP back it converges', async () => {
    await onHost('lb3', "iptables -I INPUT -p 112 -j DROP && sed -i 's/virtual_router_id 51/virtual_router_id 59/' /etc/keepalived/keepalived.conf");
    try {
      const r = await cli(['up', inv, '--json']);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const pf = events(r.stdout).find((e) => e.type === 'preflight') as { ok: boolean; issues: { host: string }[] } | undefined;
      assert.equal(pf?.ok, false);
      assert.ok(pf.issues.every((i) => i.host === 'lb3'));
      assert.equal(events(r.stdout).filter((e) => e.type === 'step').length, 0, 'no step ran');
      assert.match(await onHost('lb3', 'cat /etc/keepalived/keepalived.conf'), /virtual_router_id 59/, 'keepalived.conf untouched');
    } finally {
      await onHost('lb3', 'iptables -D INPUT -p 112 -j DROP');
    }
    const ok = await cli(['up', inv, '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.equal((events(ok.stdout).find((e) => e.type === 'preflight') as { ok: boolean } | undefined)?.ok, true);
    assert.doesNotMatch(await onHost('lb3', 'cat /etc/keepalived/keepalived.conf'), /virtual_router_id 59/);
    // Unchanged VRIDs: no pre-flight at all on the next run.
    const again = await cli(['up', inv, '--json']);
    assert.equal(events(again.stdout).filter((e) => e.type === 'preflight').length, 0);
  });
});
