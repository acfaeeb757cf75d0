/**
 * haproxy's service tracked for real on the VM tier: haproxy killed on the holder puts it in FAULT at
 * once (systemd writes /run/lbdeploy-haproxy.down, keepalived's track_file reads it) and the VIP moves,
 * though systemd restarts haproxy within a fraction of a second. haproxy is reloaded first: keepalived's
 * own vrrp_track_process, which lbdeploy used before, counted haproxy's re-executed master again on each
 * reload (5 counted for 2 running on these VMs) and then never saw haproxy gone.
 */
import { strict as assert } from 'node:assert';
import { cli, labInventoryCopy } from '../helpers/cli.js';
import { ensureLabVms, onHost } from '../helpers/lab.js';

const VMS = ['lbvm1', 'lbvm2'];
const VIP = '198.18.0.150';
const holders = async () => (await Promise.all(VMS.map(async (vm) => ((await onHost(vm, 'ip -o addr show ens3')).includes(` ${VIP}/`) ? vm : '')))).filter(Boolean);
const CLEAN = `systemctl stop keepalived haproxy 2>/dev/null; rm -f /run/lbdeploy-haproxy.down; DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq haproxy keepalived >/dev/null 2>&1
rm -rf /etc/keepalived /etc/haproxy /etc/sysctl.d/60-lbdeploy-ha.conf /etc/systemd/system/haproxy.service.d /usr/local/sbin/lbdeploy-reload-haproxy /var/lib/lbdeploy/handlers
systemctl daemon-reload; ip addr del ${VIP}/24 dev ens3 2>/dev/null; true`;

describe('haproxy tracked on the VM tier: haproxy killed on the holder is FAULT at once, after reloads too (end-to-end)', function () {
  this.timeout(600_000);
  let inv: string;

  before(async function () {
    this.timeout(1_200_000);
    await ensureLabVms();
    // Nothing else of the lab's keepalived on the VMs while this runs (seed 002 runs it in a container).
    for (const vm of VMS) await onHost(vm, `if command -v docker >/dev/null; then docker stop -t 5 keepalived; docker rm keepalived; fi >/dev/null 2>&1; ipvsadm -C 2>/dev/null; true`);
    inv = labInventoryCopy((t) => t, 'inventory/lab-vm-ha.yaml');
  });

  after(async () => {
    for (const vm of VMS) await onHost(vm, CLEAN).catch(() => undefined);
  });

  it('converges on the VMs with haproxy\'s service tracked, and serves', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const vm of VMS) {
      assert.match(await onHost(vm, 'cat /etc/keepalived/keepalived.conf'), /^track_file haproxy_down \{\n {4}file "\/run\/lbdeploy-haproxy\.down"\n {4}weight 0\n\}/m);
      assert.match(await onHost(vm, 'systemctl show haproxy -p ExecStopPost'), /echo 1 > \/run\/lbdeploy-haproxy\.down/, `${vm}: systemd runs the drop-in`);
    }
    for (let i = 0; i < 20 && (await holders()).join() !== 'lbvm1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lbvm1']);
  });

  it('failover-test kill-haproxy after two haproxy reloads: the holder enters FAULT and the VIP moves to lbvm2', async () => {
    // Each reload re-executes haproxy's master: what made keepalived's own process count wrong.
    for (const vm of VMS) for (let i = 0; i < 2; i++) await onHost(vm, '/usr/local/sbin/lbdeploy-reload-haproxy');
    // lbdeploy restarts haproxy at once (RestartSec=0): on a slow VM it can be back before the backup's
    // takeover timer runs out, and the VIP then stays. Here systemd waits 3 s, so the FAULT lasts and
    // the move shows; the drop-in is in /run (gone at reboot) and removed after.
    const SLOW = '/run/systemd/system/haproxy.service.d/zz-test-slow-restart.conf';
    for (const vm of VMS) await onHost(vm, `mkdir -p ${SLOW.replace(/\/[^/]+$/, '')} && printf '[Service]\\nRestartSec=3\\n' > ${SLOW} && systemctl daemon-reload`);
    try {
      const since = (await onHost('lbvm1', 'date +%s')).trim();
      // 20 requests/s: haproxy on a VM under software emulation (no KVM here) answers 200/s only at p50 0.45 s.
      const r = await cli(['failover-test', inv, '--json', '--scenario', 'kill-haproxy', '--history', 'none', '--rate', '20', '--timeout', '2']);
      const [x] = JSON.parse(r.stdout) as { holderBefore: string; holderAfter?: string; vipMovedS?: number; servingS?: number; failedRequests: number; requests: number; ok: boolean; problem?: string }[];
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(x!.holderBefore, 'lbvm1');
      // Only haproxy_down can put it in FAULT here (the HTTP check only lowers the priority).
      const log = await onHost('lbvm1', `journalctl -u keepalived --no-pager -o cat --since @${since}`);
      assert.match(log, /\(VI_vm\) Entering FAULT STATE/, log);
      assert.equal(x!.holderAfter, 'lbvm2', JSON.stringify(x));
      process.stderr.write(`      kill-haproxy on a VM: VIP moved in ${x!.vipMovedS?.toFixed(2)} s, serving again in ${x!.servingS?.toFixed(2)} s, ${x!.failedRequests}/${x!.requests} failed\n`);
    } finally {
      for (const vm of VMS) await onHost(vm, `rm -f ${SLOW}; systemctl daemon-reload`).catch(() => undefined);
    }
    // haproxy is back (systemd) and lbvm1, out of FAULT, takes the VIP back.
    for (let i = 0; i < 30 && (await holders()).join() !== 'lbvm1'; i++) await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual(await holders(), ['lbvm1']);
  });
});
