/** The VM tier: real kernels where the container lab cannot go (IPVS, modules, sysctl, reboot). */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { cli, events, FIXTURES, labInventory, labInventoryCopy } from '../helpers/cli.js';
import { DR_LEFTOVERS, DR_REAL_SERVER_LEFTOVERS, ensureLabVms, onHost } from '../helpers/lab.js';
import { LAB_VMS } from '../../src/lab/topology.js';
import { parseIpvsadmList, parseIpvsadmSave } from '../../src/render/ipvs.js';

const VMS = LAB_VMS.map((v) => v.name);
const vmGroup = `  vms:\n    hosts:\n${LAB_VMS.map((v) => `      ${v.name}: { address: ${v.address} }`).join('\n')}\n`;

describe('VM tier (lab up --vms): real kernels', function () {
  this.timeout(600_000);

  before(async function () {
    this.timeout(1_200_000);
    await ensureLabVms();
  });

  for (const vm of LAB_VMS) {
    it(`${vm.name} (${vm.address}) answers SSH with its own Debian kernel and IPVS`, async () => {
      const out = await onHost(vm.name, 'hostname; uname -r; systemctl is-system-running; modprobe ip_vs && test -d /proc/sys/net/ipv4/vs && echo ipvs');
      const [hostname, kernel, state, ipvs] = out.trim().split('\n');
      assert.equal(hostname, vm.name);
      assert.match(kernel ?? '', /-amd64$/);
      assert.equal(state, 'running');
      assert.equal(ipvs, 'ipvs');
    });
  }

  it('seed 002\'s kernel side converges for real: ipvsadm installs, modules load (merged ones skipped with a note), sysctls apply', async () => {
    const inv = labInventory(`playbook: ${join(FIXTURES, 'ipvs-kernel.ts')}\n`, { lbExtra: vmGroup });
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const mods = events(r.stdout).filter((e) => e.type === 'step' && String(e.step).startsWith('kernel modules'));
    assert.equal(mods.length, VMS.length);
    for (const m of mods) assert.match(String(m.message), /skipped nf_conntrack_ipv4 \(merged into nf_conntrack in Linux 4\.19; kernel 6\.\d+/);
    for (const vm of VMS) {
      const out = await onHost(vm, 'for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh; do test -d /sys/module/$m && echo $m; done; sysctl -n net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode net.ipv4.ip_forward; cat /etc/modules-load.d/alive.kmod.conf; ipvsadm -A -t 198.18.0.200:80 -s rr && ipvsadm -Sn && ipvsadm -C');
      assert.match(out, /^ip_vs\nip_vs_rr\nip_vs_wrr\nip_vs_sh\n1\n0\n1\n/);
      assert.doesNotMatch(out, /nf_conntrack_ipv4/, 'the persisted list holds only modules this kernel has');
      assert.deepEqual(parseIpvsadmSave(out.slice(out.indexOf('-A '))), [{ protocol: 'tcp', address: '198.18.0.200', port: 80, scheduler: 'rr', realServers: [] }], 'ipvsadm programs the kernel');
    }
    const again = await cli(['up', inv, '--json']);
    assert.equal(again.code, 0);
    assert.equal(events(again.stdout).filter((e) => e.type === 'step' && e.status === 'changed').length, 0, 'a second run changes nothing');
  });

  it('after a real reboot (--allow-reboot) the modules and sysctls are back from modules-load.d and sysctl.d', async () => {
    const boot = await onHost('lbvm2', 'cat /proc/sys/kernel/random/boot_id');
    const inv = labInventory(`playbook: ${join(FIXTURES, 'ipvs-kernel.ts')}\nvars:\n  reboot_now: true\n`, { lbExtra: vmGroup });
    const r = await cli(['up', inv, '--json', '--allow-reboot', '--limit', 'lbvm2']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const after = await onHost('lbvm2', 'cat /proc/sys/kernel/random/boot_id; test -d /sys/module/ip_vs_wrr && echo loaded; sysctl -n net.ipv4.vs.conntrack net.ipv4.vs.expire_nodest_conn');
    const [bootAfter, loaded, conntrack, expire] = after.trim().split('\n');
    assert.notEqual(bootAfter, boot.trim(), 'a new kernel boot');
    assert.equal(loaded, 'loaded');
    assert.equal(conntrack, '1');
    assert.equal(expire, '1');
  });

  it('seed 003: IPVS direct routing from lbvm1 to web1..web3 and the VM real server lbvm2; after a real reboot of both VMs the director\'s VIP and table and lbvm2\'s VIP on lo are back', async () => {
    // lbvm2 as a fourth real server, a VM that reboots for real: a tiny HTTP responder as its service
    // (the test's own, started at boot), the VIP on lo from lbdeploy.
    await onHost('lbvm2', `${DR_LEFTOVERS}
cat > /usr/local/bin/lbdeploy-test-http <<'PERL'
use IO::Socket::INET;
my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 16, ReuseAddr => 1) or die "listen: $!";
while (my $c = $s->accept) {
  while (my $l = <$c>) { last if $l !~ /\\S/ }
  my $b = "host=lbvm2 port=80 client=" . $c->peerhost . "\\n";
  print $c "HTTP/1.0 200 OK\\r\\nContent-Length: " . length($b) . "\\r\\n\\r\\n$b";
  close $c;
}
PERL
cat > /etc/systemd/system/lbdeploy-test-http.service <<'UNIT'
[Unit]
Description=lbdeploy test: an HTTP responder on port 80 naming the host and the client
After=network.target
[Service]
ExecStart=/usr/bin/perl /usr/local/bin/lbdeploy-test-http
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload && systemctl enable --now lbdeploy-test-http.service >/dev/null 2>&1`);
    const inv = labInventoryCopy((t) => t.replace('      web3: { address: 198.18.0.23 }\n', '      web3: { address: 198.18.0.23 }\n      lbvm2: { address: 198.18.0.52 }\n'), 'inventory/lab-ipvs-dr.yaml');
    const REAL = ['web1', 'web2', 'web3', 'lbvm2'];
    try {
      const r = await cli(['up', inv, '--json']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const table = parseIpvsadmList(await onHost('lbvm1', 'ipvsadm -ln'));
      assert.deepEqual(table, [{ protocol: 'tcp', address: '198.18.0.200', port: 80, scheduler: 'rr',
        realServers: ['21', '22', '23', '52'].map((n) => ({ address: `198.18.0.${n}`, port: 80, forward: 'route', weight: 1 })) }]);
      const pages = (await onHost('client', 'for i in 1 2 3 4 5 6 7 8; do curl -sS -m 3 http://198.18.0.200/; done')).trim().split('\n');
      assert.equal(pages.length, 8);
      assert.deepEqual([...new Set(pages.map((p) => /host=(\S+)/.exec(p)?.[1]))].sort(), REAL.slice().sort(), 'round robin over the real servers');
      for (const p of pages) assert.match(p, /client=198\.18\.0\.30$/, 'direct routing keeps the client address');
      const v = await cli(['verify', inv, '--json']);
      const report = JSON.parse(v.stdout) as { checks: { check: string; target: string; severity: string; detail: string }[] };
      assert.equal(v.code, 0, v.stdout);
      assert.deepEqual(report.checks.map((c) => `${c.check} ${c.target}: ${c.severity}`), [
        'vip holder ipvs-dr 198.18.0.200: ok', 'ipvs table lbvm1: ok', 'curl via vip ipvs-dr 198.18.0.200:80: ok', 'round robin ipvs-dr: ok',
      ]);
      const again = await cli(['up', inv, '--json']);
      assert.equal(again.code, 0);
      assert.equal(events(again.stdout).filter((e) => e.type === 'step' && e.status === 'changed').length, 0, 'a second run changes nothing');
      assert.match(await onHost('lbvm1', 'cat /etc/ipvsadm.rules'), /^-A -t 198\.18\.0\.200:80 -s rr\n-a -t 198\.18\.0\.200:80 -r 198\.18\.0\.21:80 -g -w 1\n/);
      // A real reboot of both VMs: the director (VIP unit, ipvsadm.rules, modules) and the real server (its lo VIP unit, ARP sysctls).
      const boots = await Promise.all(['lbvm1', 'lbvm2'].map(async (vm) => (await onHost(vm, 'cat /proc/sys/kernel/random/boot_id')).trim()));
      await Promise.all(['lbvm1', 'lbvm2'].map((vm) => onHost(vm, 'nohup sh -c "sleep 1; systemctl reboot" >/dev/null 2>&1 &')));
      for (const [i, vm] of ['lbvm1', 'lbvm2'].entries()) {
        let back = '';
        for (let n = 0; n < 90 && (back === '' || back === boots[i]); n++) {
          await new Promise((res) => setTimeout(res, 2000));
          back = (await onHost(vm, 'cat /proc/sys/kernel/random/boot_id').catch(() => '')).trim();
        }
        assert.ok(back !== '' && back !== boots[i], `${vm} rebooted`);
      }
      assert.match(await onHost('lbvm2', 'ip -o addr show dev lo'), / 198\.18\.0\.200\/32 /, 'lbvm2: the VIP is on lo again after the reboot');
      assert.equal((await onHost('lbvm2', 'sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.all.arp_announce')).trim(), '1\n2', 'lbvm2: ARP quiet again');
      let seen = new Set<string>();
      for (let i = 0; i < 30 && seen.size < REAL.length; i++) {
        await new Promise((res) => setTimeout(res, 1000));
        const out = await onHost('client', 'for i in 1 2 3 4 5 6 7 8; do curl -sS -m 2 http://198.18.0.200/ 2>&1; echo; done').catch(() => '');
        seen = new Set([...out.matchAll(/host=(\S+) port=80 client=198\.18\.0\.30/g)].map((m) => m[1]!));
      }
      if (seen.size < REAL.length) {
        // Only when it fails: what the VMs look like, for the message.
        const state = await Promise.all(['lbvm1', 'lbvm2'].map((vm) => onHost(vm, 'ip -o addr; ipvsadm -ln; systemctl --failed --no-pager').catch((e: Error) => e.message)));
        assert.fail(`after the reboot the VIP reaches only ${[...seen].join(', ') || 'nothing'}; ${state.join('\n')}`);
      }
      assert.equal(parseIpvsadmList(await onHost('lbvm1', 'ipvsadm -ln'))[0]?.realServers.length, 4);
    } finally {
      await onHost('lbvm1', DR_LEFTOVERS);
      await onHost('lbvm2', `systemctl disable --now lbdeploy-test-http.service >/dev/null 2>&1; rm -f /etc/systemd/system/lbdeploy-test-http.service /usr/local/bin/lbdeploy-test-http; ${DR_REAL_SERVER_LEFTOVERS}`);
      for (const w of ['web1', 'web2', 'web3']) await onHost(w, DR_REAL_SERVER_LEFTOVERS);
    }
  });
});
