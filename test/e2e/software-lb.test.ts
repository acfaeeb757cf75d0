/**
 * Seed 002 end to end on the VM tier: one `up` of inventory/lab-software-lb.yaml gives lbvm1 and
 * lbvm2 docker, the seed's modules and sysctls (and the reboot it asks for), the kubeconfigs, and
 * keepalived in a container that programs IPVS and holds the VIP; then idempotence, a config
 * reload without a restart, a refused config, verify and the failover drill.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { DR_LEFTOVERS, DR_REAL_SERVER_LEFTOVERS, ensureLabVms, onHost } from '../helpers/lab.js';
import { parseIpvsadmList } from '../../src/render/ipvs.js';
import { sleep } from '../../src/util/sleep.js';

const VMS = ['lbvm1', 'lbvm2'];
const VIP = '198.18.0.201';
const VIP6 = '2001:2::201';
// The seed's dual stack: an IPv4 and an IPv6 virtual service, each to web1..web3 in its own family.
const TABLE = [
  { protocol: 'tcp', address: VIP, port: 80, scheduler: 'rr', realServers: ['21', '22', '23'].map((n) => ({ address: `198.18.0.${n}`, port: 80, forward: 'route', weight: 1 })) },
  { protocol: 'tcp', address: VIP6, port: 80, scheduler: 'rr', realServers: ['21', '22', '23'].map((n) => ({ address: `2001:2::${n}`, port: 80, forward: 'route', weight: 1 })) },
];
/** `ipvsadm -ln` in a fixed order (the kernel lists by hash). */
const table = async (vm: string) => parseIpvsadmList(await onHost(vm, 'ipvsadm -ln'))
  .map((s) => ({ ...s, realServers: [...s.realServers].sort((a, b) => a.address.localeCompare(b.address)) }))
  .sort((a, b) => a.address.localeCompare(b.address));

type Json = Record<string, unknown>;
const steps = (stdout: string) => events(stdout).filter((e) => e.type === 'step');

async function verify(inv: string): Promise<{ code: number | null; report: { ok: boolean; checks: Json[] } }> {
  const r = await cli(['verify', inv, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout || '{"ok":false,"checks":[]}') as { ok: boolean; checks: Json[] } };
}

describe('seed 002 on the VM tier: IPVS with keepalived in a container (ipvs-keepalived)', function () {
  this.timeout(900_000);
  let inv: string;

  before(async function () {
    this.timeout(1_200_000);
    await ensureLabVms();
    inv = labInventoryCopy((t) => t, 'inventory/lab-software-lb.yaml');
    // A clean start whatever ran before: no keepalived container or image, seed 002's module list not
    // yet written, nothing left of a seed 003 run (its VIP unit and rules file would come back at boot).
    for (const vm of VMS) {
      await onHost(vm, `if command -v docker >/dev/null; then docker stop -t 5 keepalived; docker rm keepalived; docker rmi lbdeploy-lab/keepalived:lab; fi >/dev/null 2>&1
rm -f /etc/modules-load.d/alive.kmod.conf
${DR_LEFTOVERS}`);
    }
  });

  after(async () => {
    for (const vm of VMS) await onHost(vm, 'docker stop -t 5 keepalived >/dev/null 2>&1; docker rm keepalived >/dev/null 2>&1; ipvsadm -C 2>/dev/null; true').catch(() => undefined);
    for (const w of ['web1', 'web2', 'web3']) await onHost(w, DR_REAL_SERVER_LEFTOVERS);
    await onHost('client', 'rm -f /etc/sysctl.d/60-lbdeploy-arp-accept.conf; sysctl -qw net.ipv4.conf.all.arp_accept=0; true');
  });

  it('one `up --allow-reboot` converges both nodes: image loaded from the archive, reboot for the kernel settings, IPVS programmed by the container, the VIP serves', async () => {
    const boots = await Promise.all(VMS.map((vm) => onHost(vm, 'cat /proc/sys/kernel/random/boot_id')));
    const r = await cli(['up', inv, '--json', '--allow-reboot']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = steps(r.stdout);
    for (const vm of VMS) {
      assert.match(String(s.find((e) => e.host === vm && String(e.step).startsWith('image '))?.message), /upload .*keepalived\.tar\.gz \(\d+\.\d MiB\) and docker load lbdeploy-lab\/keepalived:lab \(absent\)/);
      assert.equal(s.find((e) => e.host === vm && e.step === 'reboot')?.status, 'changed', 'the kernel settings changed, so the node rebooted');
      assert.equal(s.find((e) => e.host === vm && String(e.step).startsWith('container '))?.status, 'changed');
    }
    const after = await Promise.all(VMS.map((vm) => onHost(vm, 'cat /proc/sys/kernel/random/boot_id')));
    after.forEach((b, i) => assert.notEqual(b, boots[i], `${VMS[i]} booted again`));
    // After the reboot docker brings the container back (restart=always); its health checks take a moment.
    let v = await verify(inv);
    for (let i = 0; i < 30 && !v.report.ok; i++) {
      await sleep(2000);
      v = await verify(inv);
    }
    assert.equal(v.code, 0, JSON.stringify(v.report.checks, null, 1));
    for (const vm of VMS) {
      assert.deepEqual(await table(vm), TABLE, `${vm}: the container programmed the kernel's table, IPv4 and IPv6`);
      assert.match(await onHost(vm, 'ipvsadm -ln'), /TCP {2}\[2001:2::201\]:80 rr\n {2}-> \[2001:2::21\]:80 +Route/, 'ipvsadm shows the IPv6 virtual and real servers as the seed does');
      const c = JSON.parse(await onHost(vm, 'docker inspect keepalived')) as { HostConfig: Json; Mounts: Json[] }[];
      const hc = c[0]!.HostConfig;
      assert.equal(hc.NetworkMode, 'host');
      assert.equal(hc.Privileged, false);
      assert.deepEqual(hc.CapAdd, ['NET_ADMIN', 'NET_BROADCAST', 'NET_RAW']);
      assert.deepEqual((hc.RestartPolicy as Json).Name, 'always');
      assert.deepEqual(c[0]!.Mounts.map((m) => [m.Type, m.Source, m.Destination]), [['bind', '/etc/keepalived', '/live/cfg']], 'the folder is mounted, not files');
      assert.equal((await onHost(vm, 'ls /etc/keepalived/kubecfg')).trim(), 'kubecfg01.conf\nkubecfg02.conf\nkubecfg03.conf');
      assert.equal((await onHost(vm, 'sysctl -n net.ipv4.vs.conntrack net.ipv4.vs.conn_reuse_mode')).trim(), '1\n0', 'seed sysctls back after the reboot');
    }
    const checks = v.report.checks;
    assert.deepEqual(checks.filter((c) => c.check === 'vip holder').map((c) => `${c.target} ${c.severity}`), [`vip-lab ${VIP} ok`, `vip-lab6 ${VIP6} ok`]);
    const curls = checks.filter((c) => c.check === 'curl via vip').map((c) => `${c.target}: ${c.detail}`);
    assert.deepEqual(curls, [`vip-lab ${VIP}:80: 6/6 answered; backends reached: web1, web2, web3`, `vip-lab6 [${VIP6}]:80: 6/6 answered; backends reached: web1, web2, web3`]);
    // As the seed checks it: curl -6 -g from a host that is no LB node; the backend saw the client's IPv6 address.
    assert.match(await onHost('client', `curl -6 -g -sS -m 3 http://[${VIP6}]/`), /^host=web\d port=80 client=2001:2::30$/m);
    for (const w of ['web1', 'web2', 'web3']) {
      assert.match(await onHost(w, 'systemctl is-enabled lbdeploy-address-lo-2001-2--201-128.service lbdeploy-address-lo-198-18-0-201-32.service').then((o) => o.trim()), /^enabled\nenabled$/, `${w}: the lo VIPs come back at boot`);
    }
    assert.equal((await onHost('client', 'sysctl -n net.ipv4.conf.all.arp_accept')).trim(), '1', 'seed step 10 on the client');
  });

  it('a second run changes nothing', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(steps(r.stdout).filter((e) => e.status === 'changed').map((e) => `${e.host}: ${e.step}`), []);
  });

  it('audit: the rules match the inventory; keepalived drops a dead real server and audit warns until it is back', async () => {
    type Report = {
      status: string; checks: { check: string; target: string; severity: string; detail: string }[];
      topology: { vips: { address: string; holders: string[] }[]; backends: { service: string; server: string; state: string; seenFrom: string }[] }[];
    };
    // The report's picture: the holder's IPVS table, each planned real server up or down.
    const pictured = (r: Report) => r.topology.flatMap((t) => t.backends.filter((b) => b.state !== 'up').map((b) => `${b.service} ${b.server} ${b.state}`));
    const audit = async () => {
      const r = await cli(['audit', inv, '-o', 'json', '--no-drift']);
      return { code: r.code, report: JSON.parse(r.stdout) as Report };
    };
    const rules = (r: Report) => r.checks.filter((f) => f.check === 'ipvs table').map((f) => `${f.target} ${f.severity}: ${f.detail}`);
    const healthy = await audit();
    assert.equal(healthy.code, 0, JSON.stringify(healthy.report.checks));
    assert.deepEqual(rules(healthy.report), VMS.map((vm) => `${vm} ok: matches the plan: 2 virtual service(s), 6 real server(s)`));
    assert.deepEqual(pictured(healthy.report), []);
    assert.equal(healthy.report.topology[0]!.backends.length, 6);
    assert.equal(healthy.report.topology[0]!.backends[0]!.seenFrom, healthy.report.topology[0]!.vips[0]!.holders[0], 'seen from the VIP holder');
    const waitFor = async (want: number) => {
      for (let i = 0; i < 40; i++) {
        // Both families: web3 is out of the IPv4 and the IPv6 service.
        const counts = (await Promise.all(VMS.map(async (vm) => (await table(vm)).map((x) => x.realServers.length)))).flat();
        if (counts.every((n) => n === want)) return;
        await sleep(500);
      }
      assert.fail(`the real servers did not become ${want}`);
    };
    await onHost('web3', 'systemctl stop nginx');
    try {
      await waitFor(2);
      const degraded = await audit();
      assert.equal(degraded.code, 2, 'a warning: attention');
      assert.deepEqual(rules(degraded.report), VMS.map((vm) => `${vm} warning: TCP 198.18.0.201:80: real server 198.18.0.23:80 missing (its health check may be failing); TCP [2001:2::201]:80: real server [2001:2::23]:80 missing (its health check may be failing)`));
      assert.deepEqual(pictured(degraded.report), ['TCP 198.18.0.201:80 web3 down', 'TCP [2001:2::201]:80 web3 down']);
    } finally {
      await onHost('web3', 'systemctl start nginx');
    }
    await waitFor(3);
  });

  it('a config change is a reload (SIGHUP), not a new container; a config keepalived refuses never goes live', async () => {
    const ids = await Promise.all(VMS.map((vm) => onHost(vm, "docker inspect --format '{{.Id}} {{.State.StartedAt}}' keepalived")));
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('delay_loop 2', 'delay_loop 3'));
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = steps(r.stdout);
    for (const vm of VMS) {
      assert.equal(s.find((e) => e.host === vm && e.step === 'file /etc/keepalived/keepalived.conf')?.status, 'changed');
      assert.match(String(s.find((e) => e.host === vm && e.step === 'reload keepalived')?.message), /docker kill -s HUP keepalived/);
      assert.equal(s.find((e) => e.host === vm && String(e.step).startsWith('container '))?.status, 'ok');
      assert.match(await onHost(vm, 'docker logs keepalived 2>&1'), /Reloading/i, `${vm}: keepalived re-read its config`);
    }
    assert.deepEqual(await Promise.all(VMS.map((vm) => onHost(vm, "docker inspect --format '{{.Id}} {{.State.StartedAt}}' keepalived"))), ids, 'same containers, never restarted');

    const live = await onHost('lbvm1', 'sha256sum /etc/keepalived/keepalived.conf');
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('connect_port 80', 'connect_prt 80'));
    const bad = await cli(['up', inv, '--json', '--limit', 'lbvm1']);
    assert.equal(bad.code, 1);
    const failed = steps(bad.stdout).find((e) => e.status === 'failed');
    assert.equal(failed?.step, 'file /etc/keepalived/keepalived.conf');
    assert.match(String(failed?.message), /Unknown keyword 'connect_prt'[\s\S]*the live file is untouched/);
    assert.equal(await onHost('lbvm1', 'sha256sum /etc/keepalived/keepalived.conf'), live);
    writeFileSync(inv, readFileSync(inv, 'utf8').replace('connect_prt 80', 'connect_port 80'));
  });

  it('failover-test: both VIPs, IPv4 and IPv6, leave the holder whose keepalived container stops, each reported (the seed expects under 20 s)', async () => {
    // --max-move 20: the seed's own figure. The move is timed when a poll of the backup VM sees the VIP,
    // and under software emulation with the load running those polls lag: CI saw 8.5 and 10.5 s while
    // only 4 of 4800 requests failed (the VIP itself moved at once).
    const r = await cli(['failover-test', inv, '--json', '--max-move', '20']);
    const results = JSON.parse(r.stdout) as { scenario: string; vip: string; ok: boolean; vipMovedS: number; servingS: number; holderBefore: string; holderAfter: string; problem?: string; requests: number; failedRequests: number }[];
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(results.map((x) => x.vip), [VIP, VIP6]);
    for (const res of results) {
      assert.equal(res.scenario, 'keepalived-container');
      assert.ok(res.ok, res.problem);
      assert.notEqual(res.holderAfter, res.holderBefore);
      assert.ok(res.vipMovedS < 20);
      // The load ran at its fixed rate through the whole drill: 200/s x (2 x 20 + 4) s; serving again (0: nothing failed).
      assert.equal(res.requests, 8800, JSON.stringify(res));
      assert.ok(res.servingS !== undefined && res.servingS < 20, `${res.vip}: requests through it succeeded again: ${JSON.stringify(res)}`);
      process.stderr.write(`      seed 002 failover ${res.vip}: moved in ${res.vipMovedS.toFixed(2)} s, serving again in ${res.servingS.toFixed(2)} s, ${res.failedRequests}/${res.requests} requests failed\n`);
    }
    assert.equal((await verify(inv)).code, 0, 'healthy again after the restore');
  });

  it('a long-lived connection through the VIP survives the director failover: the backup director already holds it (lvs_sync_daemon)', async () => {
    for (const vm of VMS) assert.match(await onHost(vm, 'cat /etc/keepalived/keepalived.conf'), /^ {4}lvs_sync_daemon ens3 vip-lab id 61$/m);
    const holder = (await Promise.all(VMS.map(async (vm) => ((await onHost(vm, 'ip -o addr show ens3')).includes(` ${VIP}/`) ? vm : '')))).find(Boolean)!;
    const backup = VMS.find((vm) => vm !== holder)!;
    // One keep-alive HTTP connection from the client: a request, then a second on the same connection once told (bounded: 60 s).
    await onHost('client', 'rm -f /tmp/lbdeploy-go');
    const script = `exec 3<>/dev/tcp/${VIP}/80 || exit 1
req() { printf 'GET / HTTP/1.1\\r\\nHost: vip\\r\\n\\r\\n' >&3; while IFS= read -r -t 5 line <&3; do case "$line" in host=*) echo "$1 $line"; return 0;; esac; done; echo "$1 no answer"; return 1; }
req first || exit 1
i=0; while [ ! -e /tmp/lbdeploy-go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
req second; rm -f /tmp/lbdeploy-go`;
    const conversation = onHost('client', `echo ${Buffer.from(script).toString('base64')} | base64 -d > /tmp/lbdeploy-conn.sh && bash /tmp/lbdeploy-conn.sh`).catch((e: Error) => e.message);
    try {
      // The backup director received the connection from the holder's sync daemon before anything failed.
      let synced = '';
      for (let i = 0; i < 20 && !/ESTABLISHED 198\.18\.0\.30:\d+ +198\.18\.0\.201:80/.test(synced); i++) {
        await sleep(500);
        synced = await onHost(backup, 'ipvsadm -lnc');
      }
      assert.match(synced, /ESTABLISHED 198\.18\.0\.30:\d+ +198\.18\.0\.201:80 +198\.18\.0\.2[123]:80/, `${backup} has the connection`);
      await onHost(holder, 'docker stop -t 10 keepalived >/dev/null');
      for (let i = 0; i < 40 && !(await onHost(backup, 'ip -o addr show ens3')).includes(` ${VIP}/`); i++) await sleep(500);
      assert.ok((await onHost(backup, 'ip -o addr show ens3')).includes(` ${VIP}/`), `${backup} took the VIP`);
      await onHost('client', 'touch /tmp/lbdeploy-go');
      const said = String(await conversation).trim().split('\n');
      assert.equal(said.length, 2, said.join('\n'));
      const [first, second] = said.map((l) => /host=(web\d)/.exec(l)?.[1]);
      assert.ok(first, said[0]);
      assert.equal(second, first, `the same connection answered again, through ${backup}, by the same real server: ${said.join(' | ')}`);
    } finally {
      await onHost('client', 'touch /tmp/lbdeploy-go');
      await onHost(holder, 'docker start keepalived >/dev/null');
    }
    assert.equal((await verify(inv)).code, 0, 'healthy again after the restore');
  });

  /**
   * One request through the VIP in NAT. CI runs saw it fail right after verify passed: once refused
   * at once, once timed out while both directors listed all three real servers (the holder counting
   * the connection active): the cause is not found. A failure is retried (twice at most, once the
   * directors list their real servers again), and what the directors held then is printed.
   */
  async function natRequest(): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const r = await onHost('client', `curl -sS -m 3 http://${VIP}/ 2>&1 || true`);
      if (/^host=/.test(r) || attempt === 3) return r.trim();
      const held = await Promise.all(VMS.map((vm) => onHost(vm, `ipvsadm -ln -t ${VIP}:80; docker logs --tail 8 keepalived 2>&1`).then((o) => `${vm}: ${o}`)));
      process.stderr.write(`      NAT request ${attempt} failed (${r.trim()}); the directors then:\n${held.join('\n')}\n`);
      for (let i = 0; i < 10; i++) {
        if ((await Promise.all(VMS.map(table))).every((t) => t.find((x) => x.address === VIP)?.realServers.length === 3)) break;
        await sleep(1000);
      }
    }
  }

  it('the seed\'s own mode, NAT: with the real servers routing the client back through the VIP, the table shows Masq and the backends see the client', async () => {
    const webs = ['web1', 'web2', 'web3'];
    // What an operator does for NAT: the real servers' way back to the clients is the LB (here one route, not their default gateway).
    for (const w of webs) await onHost(w, `ip addr del ${VIP}/32 dev lo 2>/dev/null; ip route replace 198.18.0.30/32 via ${VIP}`);
    // The IPv4 instance only (the first lb_kind line): the IPv6 one stays DR and keeps serving.
    const nat = labInventoryCopy((t) => t.replace(/^( +)lb_kind DR$/m, '$1lb_kind NAT'), 'inventory/lab-software-lb.yaml');
    try {
      const r = await cli(['up', nat, '--json', '--limit', 'lb']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      let v = await verify(nat);
      for (let i = 0; i < 20 && !v.report.ok; i++) {
        await sleep(1000);
        v = await verify(nat);
      }
      if (v.code !== 0) {
        // Only on failure: the routes and neighbours involved, for the message.
        const state = await Promise.all([...webs.map((w) => onHost(w, 'ip route get 198.18.0.30; ip neigh show 198.18.0.201').then((o) => `${w}: ${o}`)),
          ...VMS.map((vm) => onHost(vm, 'ip -br a show ens3; ipvsadm -lnc | head -20; sysctl net.ipv4.conf.all.send_redirects').then((o) => `${vm}: ${o}`)),
          onHost('client', 'ip neigh; curl -sS -m 2 http://198.18.0.201/ 2>&1 || true').then((o) => `client: ${o}`)]);
        assert.fail(`NAT verify failed: ${JSON.stringify(v.report.checks.filter((c) => c.severity !== 'ok'))}\n${state.join('\n')}`);
      }
      for (const vm of VMS) assert.deepEqual((await table(vm)).find((x) => x.address === VIP)?.realServers.map((x) => x.forward), ['masq', 'masq', 'masq'], `${vm}: NAT (Masq) as the seed shows`);
      const pages: string[] = [];
      for (let i = 0; i < 3; i++) pages.push(await natRequest());
      for (const p of pages) assert.match(p, /^host=web\d port=80 client=198\.18\.0\.30$/, 'NAT keeps the client address');
    } finally {
      for (const w of webs) await onHost(w, 'ip route del 198.18.0.30/32 2>/dev/null; true');
      // Back to DR for whatever runs next.
      await cli(['up', inv, '--json']);
    }
  });
});
