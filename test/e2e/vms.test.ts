/** The VM tier: real kernels where the container lab cannot go (IPVS, modules, sysctl, reboot). */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { cli, events, FIXTURES, labInventory } from '../helpers/cli.js';
import { ensureLabVms, onHost } from '../helpers/lab.js';
import { LAB_VMS } from '../../src/lab/topology.js';
import { parseIpvsadmSave } from '../../src/render/ipvs.js';

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
});
