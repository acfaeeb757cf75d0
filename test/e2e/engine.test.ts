/** The engine against real hosts: converge, idempotency, drift, validation, failures, interrupts, secrets. */
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { $ } from '../../src/shell-local.js';
import { cli, events, FIXTURES, labInventory } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { containerName, LAB_HOSTS } from '../../src/lab/topology.js';
import { connectSsh } from '../../src/connection/ssh.js';
import { sh } from '../../src/connection/shell.js';

const LBS = ['lb1', 'lb2', 'lb3'];
const RSYSLOG = '/etc/rsyslog.d/30-lbdeploy.conf';
type Recap = Record<string, { ok: number; changed: number; failed: number; unreachable: boolean }>;

function recapOf(stdout: string): { hosts: Recap; commands: Record<string, number>; connections: number } {
  const r = events(stdout).find((e) => e.type === 'recap');
  assert.ok(r, `no recap in:\n${stdout}`);
  return r as never;
}

function steps(stdout: string) {
  return events(stdout).filter((e) => e.type === 'step') as { host: string; step: string; status: string; message?: string; diff?: string; handler?: boolean }[];
}

/** Put the LB hosts back to before baseline, so the first converge does real work. */
async function resetBaseline(): Promise<void> {
  await Promise.all(LBS.map((h) => onHost(h, `rm -f ${RSYSLOG} /etc/sysctl.d/60-lbdeploy.conf /etc/modules-load.d/lbdeploy.conf /var/lib/lbdeploy/handlers/*; sysctl -q -w net.ipv4.ip_nonlocal_bind=0; DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq socat >/dev/null 2>&1; true`)));
}

async function waitForSsh(name: string): Promise<void> {
  const h = LAB_HOSTS.find((x) => x.name === name)!;
  for (let i = 0; i < 60; i++) {
    try {
      const c = await connectSsh({ name, address: h.address, user: 'root', privateKeyPath: labPaths().clientKey, knownHostsPath: labPaths().knownHosts, hostKeyPolicy: 'strict', connectTimeoutMs: 2000 });
      const r = await c.exec(sh`systemctl is-system-running --wait`);
      await c.close();
      if (r.stdout.trim() === 'running') return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`${name} did not come back`);
}

describe('engine (end-to-end against the lab)', function () {
  this.timeout(240_000);
  let inv: string;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    await resetBaseline();
    inv = labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n');
  });

  it('converges baseline on lb1..lb3', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const recap = recapOf(r.stdout);
    for (const h of LBS) {
      assert.equal(recap.hosts[h]!.failed, 0);
      assert.ok(recap.hosts[h]!.changed >= 3, `${h}: ${JSON.stringify(recap.hosts[h])}`);
    }
    assert.equal(recap.connections, 3);
    for (const h of LBS) {
      const out = await onHost(h, `cat /proc/sys/net/ipv4/ip_nonlocal_bind; systemctl is-active rsyslog; command -v socat; cat ${RSYSLOG}`);
      assert.match(out, /^1\nactive\n\/usr\/bin\/socat\n# Managed by lbdeploy/);
    }
  });

  it('a second run changes nothing, in one remote command per host: the run lock reads every fact under it', async () => {
    const r = await cli(['up', inv, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const recap = recapOf(r.stdout);
    for (const h of LBS) {
      assert.equal(recap.hosts[h]!.changed, 0, `${h} changed on a no-op run`);
      // The run lock's command (held for the run), which reads every fact as soon as the lock is ours.
      assert.equal(recap.commands[h], 1, `${h}: ${recap.commands[h]} commands`);
    }
  });

  it('after a manual edit, plan reports exactly that change with a diff, and fixes nothing', async () => {
    await onHost('lb2', `echo '*.* /var/log/hand-edit.log' >> ${RSYSLOG}`);
    const r = await cli(['plan', inv, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const changed = steps(r.stdout).filter((s) => s.status === 'changed');
    assert.deepEqual(changed.map((s) => `${s.host} ${s.step}`), [`lb2 file ${RSYSLOG}`, 'lb2 restart rsyslog']);
    assert.match(changed[0]!.diff ?? '', /^-\*\.\* \/var\/log\/hand-edit\.log$/m);
    assert.match(await onHost('lb2', `cat ${RSYSLOG}`), /hand-edit/);
    const fix = await cli(['up', inv, '--json']);
    assert.equal(fix.code, 0);
    assert.doesNotMatch(await onHost('lb2', `cat ${RSYSLOG}`), /hand-edit/);
    assert.equal(steps(fix.stdout).filter((s) => s.status === 'changed' && s.handler).length, 1, 'the handler ran once');
  });

  it('a config rejected by its validate command leaves the old file byte-identical and the service untouched', async () => {
    const before = await Promise.all(LBS.map((h) => onHost(h, `sha256sum ${RSYSLOG}; systemctl show -p MainPID --value rsyslog`)));
    const bad = labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n  baseline_rsyslog_extra: "if $msg contains then {"\n');
    const r = await cli(['up', bad, '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const failed = steps(r.stdout).filter((s) => s.status === 'failed');
    assert.deepEqual(failed.map((s) => s.host).sort(), LBS);
    for (const f of failed) assert.match(f.message ?? '', /validate command rejected/);
    const after = await Promise.all(LBS.map((h) => onHost(h, `sha256sum ${RSYSLOG}; systemctl show -p MainPID --value rsyslog`)));
    assert.deepEqual(after, before);
    const leftovers = await onHost('lb1', 'ls -a /etc/rsyslog.d/');
    assert.doesNotMatch(leftovers, /lbdeploy\.[A-Za-z0-9]{6}/);
  });

  it('limits to hosts and tags', async () => {
    const r = await cli(['plan', inv, '--json', '--limit', 'lb1', '--tags', 'sysctl']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(steps(r.stdout).map((s) => `${s.host} ${s.step}`), ['lb1 sysctl /etc/sysctl.d/60-lbdeploy.conf']);
    const bad = await cli(['plan', inv, '--limit', 'lb9']);
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /'lb9' matches no host or group/);
  });

  it('plan --detailed-exitcode: 0 when converged, 2 with a change pending, 0 again after up', async () => {
    const converged = await cli(['plan', inv, '--detailed-exitcode', '-o', 'json']);
    assert.equal(converged.code, 0, converged.stdout + converged.stderr);
    await onHost('lb2', `echo '# drift' >> ${RSYSLOG}`);
    const pending = await cli(['plan', inv, '--detailed-exitcode']);
    assert.equal(pending.code, 2, pending.stdout + pending.stderr);
    assert.match(pending.stdout, /lb2/);
    assert.equal((await cli(['plan', inv])).code, 0, 'without the flag a pending change is still 0');
    assert.equal((await cli(['up', inv, '--no-wait'])).code, 0);
    assert.equal((await cli(['plan', inv, '--detailed-exitcode'])).code, 0);
  });

  it('reports a stopped host UNREACHABLE while the others converge', async function () {
    this.timeout(300_000);
    await $`docker stop -t 5 ${containerName(LAB_HOSTS.find((h) => h.name === 'lb3')!)}`.quiet();
    try {
      await onHost('lb1', `echo '# drift' >> ${RSYSLOG}`);
      const r = await cli(['up', inv, '--json']);
      assert.equal(r.code, 5, r.stdout + r.stderr); // unreachable
      const recap = recapOf(r.stdout);
      assert.equal(recap.hosts.lb3!.unreachable, true);
      assert.equal(recap.hosts.lb1!.failed, 0);
      assert.ok(recap.hosts.lb1!.changed >= 1);
      assert.equal(recap.hosts.lb2!.failed, 0);
      assert.ok(events(r.stdout).some((e) => e.type === 'host-unreachable' && e.host === 'lb3'));
    } finally {
      await $`docker start ${containerName(LAB_HOSTS.find((h) => h.name === 'lb3')!)}`.quiet();
      await waitForSsh('lb3');
    }
  });

  it('refuses a host whose key changed, before authenticating (others carry on)', async () => {
    const known = readFileSync(labPaths().knownHosts, 'utf8').split('\n');
    const lb2Key = known.find((l) => l.startsWith('198.18.0.12,'))!.split(' ').slice(1).join(' ');
    const forged = known.map((l) => (l.startsWith('198.18.0.11,') ? `198.18.0.11 ${lb2Key}` : l)).join('\n');
    const kh = join(dirname(inv), 'known_hosts.forged');
    writeFileSync(kh, forged);
    const r = await cli(['up', labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n', { knownHosts: kh }), '--json']);
    assert.equal(r.code, 5); // unreachable
    const u = events(r.stdout).find((e) => e.type === 'host-unreachable');
    assert.equal(u?.host, 'lb1');
    assert.match(String(u?.message), /does not match .*refused before authentication/);
    assert.equal(recapOf(r.stdout).hosts.lb2!.failed, 0);
  });

  it('runs everything as the deploy user through sudo -n (become)', async () => {
    const r = await cli(['plan', labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n', { connection: '  become: true\n' }).replace(/$/, ''), '--json']);
    // same state seen through sudo as root: nothing to change
    assert.equal(r.code, 0, r.stderr);
    const asDeploy = labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n');
    writeFileSync(asDeploy, readFileSync(asDeploy, 'utf8').replace('user: root', 'user: deploy\n  become: true'));
    const d = await cli(['plan', asDeploy, '--json']);
    assert.equal(d.code, 0, d.stdout + d.stderr);
    assert.equal(steps(d.stdout).filter((s) => s.status === 'changed').length, 0, 'root-owned files read through sudo match');
    const noBecome = labInventory('playbook: baseline\nvars:\n  baseline_modules: [nf_conntrack, overlay]\n');
    writeFileSync(noBecome, readFileSync(noBecome, 'utf8').replace('user: root', 'user: deploy'));
    const n = await cli(['up', noBecome, '--json', '--limit', 'lb1', '--tags', 'sysctl']);
    assert.equal(n.code, 0, 'reading is allowed without root');
  });

  it('reaches a host through a jump host', async () => {
    const p = labPaths();
    const file = labInventory('', { lbExtra: `  web:\n    connection: { jump: lb1 }\n    hosts:\n      web1: { address: 198.18.0.21 }\n` });
    const r = await cli(['facts', file, '--limit', 'web1', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((JSON.parse(r.stdout) as { facts: { hostname: string } }[])[0]!.facts.hostname, 'web1');
    const log = await onHost('web1', 'journalctl -u ssh --no-pager -n 50');
    assert.match(log, /Accepted publickey for root from 198\.18\.0\.11 /);
    assert.ok(p.knownHosts);
  });

  it('runs the playbook given with --playbook, one host at a time with serial: 1', async () => {
    const r = await cli(['up', inv, '--playbook', join(FIXTURES, 'serial.ts'), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const order = steps(r.stdout).map((s) => `${s.host}:${s.step}`);
    assert.deepEqual(order, ['lb3:pause', 'lb3:after', 'lb2:pause', 'lb2:after', 'lb1:pause', 'lb1:after']);
  });

  it('survives a connection that dies in the middle of a command: that host FAILED, the others carry on', async () => {
    const r = await cli(['up', inv, '--playbook', join(FIXTURES, 'dying.ts'), '--json']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const recap = recapOf(r.stdout);
    assert.equal(recap.hosts.lb1!.failed, 1);
    assert.equal(recap.hosts.lb2!.failed, 0);
    assert.equal(recap.hosts.lb3!.failed, 0);
    assert.equal(recap.hosts.lb2!.changed, 2);
    const failed = steps(r.stdout).find((s) => s.status === 'failed');
    assert.equal(failed?.host, 'lb1');
    assert.match(failed?.message ?? '', /ended without an exit status/);
  });

  it('records a new host key with accept-new, and then holds the host to it', async () => {
    const kh = join(dirname(inv), 'known_hosts.new');
    writeFileSync(kh, '');
    const file = labInventory('', { knownHosts: kh });
    writeFileSync(file, readFileSync(file, 'utf8').replace('host_key_checking: strict', 'host_key_checking: accept-new'));
    const r = await cli(['facts', file, '--limit', 'lb1']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const recorded = readFileSync(kh, 'utf8');
    const real = readFileSync(labPaths().knownHosts, 'utf8').split('\n').find((l) => l.startsWith('198.18.0.11,'))!.split(' ').slice(1, 3).join(' ');
    assert.equal(recorded.trim(), `198.18.0.11 ${real}`);
    const strict = labInventory('', { knownHosts: kh });
    const again = await cli(['facts', strict, '--limit', 'lb1,lb2']);
    assert.equal(again.code, 5, 'lb2 is not in the new file and strict refuses it');
    assert.match(again.stdout, /lb2 +UNREACHABLE/);
    assert.match(again.stdout, /lb1 +debian 12/);
  });

  it('reboots only with --allow-reboot, waits until the host is back on a new boot, and carries on', async function () {
    this.timeout(300_000);
    const clients = '  clients:\n    hosts:\n      client: { address: 198.18.0.30 }\n';
    const file = labInventory(`playbook: ${join(FIXTURES, 'reboot.ts')}\n`, { lbExtra: clients });
    const pid1 = async () => (await onHost('client', "cut -d' ' -f22 /proc/1/stat")).trim();
    await onHost('client', 'rm -f /run/reboot-required /root/lbdeploy-after-reboot');
    const before = await pid1();
    const refused = await cli(['up', file, '--json']);
    assert.equal(refused.code, 1);
    assert.match(steps(refused.stdout).find((s) => s.status === 'failed')?.message ?? '', /a reboot is required but not allowed/);
    assert.equal(await pid1(), before, 'no reboot without --allow-reboot');
    const r = await cli(['up', file, '--json', '--allow-reboot']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(steps(r.stdout).map((s) => `${s.step}:${s.status}`), ['require a reboot:ok', 'reboot:changed', 'after the reboot:changed']);
    const after = await pid1();
    assert.notEqual(after, before, 'PID 1 started again: the host rebooted');
    assert.equal((await onHost('client', 'cat /root/lbdeploy-after-reboot')).trim(), after, 'the step after the reboot ran on the new boot');
  });

  it('keeps a notified handler pending across a failed run and runs it on the next', async () => {
    await Promise.all(LBS.map((h) => onHost(h, 'rm -f /etc/lbdeploy-handler-test.conf /var/tmp/lbdeploy-handler-ran /var/lib/lbdeploy/handlers/*')));
    const pb = join(FIXTURES, 'handlers.ts');
    const failing = labInventory(`playbook: ${pb}\nvars:\n  fail_after_change: true\n`);
    const r1 = await cli(['up', failing, '--json', '--limit', 'lb1']);
    assert.equal(r1.code, 1);
    assert.equal(await onHost('lb1', 'ls /var/lib/lbdeploy/handlers | wc -l'), '1\n');
    assert.equal(await onHost('lb1', 'cat /var/tmp/lbdeploy-handler-ran 2>/dev/null | wc -l'), '0\n');
    const r2 = await cli(['up', labInventory(`playbook: ${pb}\n`), '--json', '--limit', 'lb1']);
    assert.equal(r2.code, 0, r2.stdout);
    assert.ok(steps(r2.stdout).some((s) => s.handler && s.status === 'changed'), 'the pending handler ran');
    assert.equal(await onHost('lb1', 'cat /var/tmp/lbdeploy-handler-ran | wc -l'), '1\n');
    assert.equal(await onHost('lb1', 'ls /var/lib/lbdeploy/handlers | wc -l'), '0\n');
    const r3 = await cli(['up', labInventory(`playbook: ${pb}\n`), '--json', '--limit', 'lb1']);
    assert.equal(recapOf(r3.stdout).hosts.lb1!.changed, 0, 'and not again');
  });

  it('SIGINT in the middle of a large upload leaves the file old or new, never partial, and no temp file', async function () {
    this.timeout(300_000);
    const path = '/var/tmp/lbdeploy-big.bin';
    await onHost('lb1', `printf 'old\\n' > ${path}; rm -f /var/tmp/.lbdeploy-big.bin.lbdeploy.*`);
    const file = labInventory(`playbook: ${join(FIXTURES, 'big-file.ts')}\nvars:\n  big_mb: 256\n`);
    let sawTemp = false;
    const r = await cli(['up', file, '--limit', 'lb1'], {}, (kill) => {
      void (async () => {
        // Interrupt once the upload is under way: the temp file beside the destination is growing.
        for (let i = 0; i < 600 && !sawTemp; i++) {
          const size = await onHost('lb1', 'stat -c %s /var/tmp/.lbdeploy-big.bin.lbdeploy.* 2>/dev/null || echo 0').catch(() => '0');
          if (Number(size.trim().split('\n')[0]) > 1_000_000) sawTemp = true;
          else await new Promise((res) => setTimeout(res, 50));
        }
        kill('SIGINT');
      })();
    });
    assert.ok(sawTemp, 'the upload was seen in progress');
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stdout, /INTERRUPTED/);
    let state = '';
    for (let i = 0; i < 50; i++) {
      state = await onHost('lb1', `ls -a /var/tmp | grep -c 'lbdeploy-big.bin.lbdeploy' || true; stat -c %s ${path}; head -c 4 ${path}`);
      if (state.startsWith('0\n')) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    const [temps, size, head] = state.split('\n');
    assert.equal(temps, '0', 'no temp file left');
    assert.ok((size === '4' && head === 'old') || (size === String(256 * 1024 * 1024) && head === 'lb1 '), `destination is old or complete, not partial: size ${size}`);
    await onHost('lb1', `rm -f ${path}`);
  });

  it('rejects an invalid inventory with file:line:col before connecting anywhere', async () => {
    // A listener on the lab gateway stands in for a host: the bad inventory must never reach it.
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(2222, '198.18.0.1', r));
    try {
      const file = labInventory('playbook: baseline\n', { connection: '  port: 2222\n' }).replace(/$/, '');
      writeFileSync(file, readFileSync(file, 'utf8').replace('lb2: { address: 198.18.0.12 }', 'lb2: { adress: 198.18.0.1 }').replace(/198\.18\.0\.1[13]/g, '198.18.0.1'));
      const r = await cli(['up', file]);
      assert.equal(r.code, 4);
      assert.match(r.stderr, /inventory\.yaml:\d+:\d+: unknown key 'adress' .*\(did you mean 'address'\?\)/);
      const vars = labInventory('playbook: baseline\nvars:\n  baseline_modules: nf_conntrack\n', { connection: '  port: 2222\n' });
      writeFileSync(vars, readFileSync(vars, 'utf8').replace(/198\.18\.0\.1[123]/g, '198.18.0.1'));
      const rv = await cli(['up', vars]);
      assert.equal(rv.code, 4, rv.stderr);
      assert.match(rv.stderr, /inventory\.yaml:3:21: host lb1, playbook baseline: 'baseline_modules' must be an array/);
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });

  it('never prints a secret, in any output mode', async () => {
    const canary = 'CANARY-7f3a9c21e4b8';
    const env = { LBD_CANARY: canary };
    const pb = join(FIXTURES, 'canary.ts');
    const file = labInventory(`playbook: ${pb}\nvars:\n  canary: !secret env:LBD_CANARY\n`);
    const outputs: string[] = [];
    const all = () => outputs.join('\n');
    // A previous value on the host (an old secret) must not show in a diff either.
    await onHost('lb1', `printf 'revision 0\\npassword CANARY-short\\n' > /etc/lbdeploy-canary.conf`);
    const run = async (args: string[], e: NodeJS.ProcessEnv = env) => {
      const r = await cli(args, e);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    await run(['up', file, '--limit', 'lb1']);
    await run(['up', file, '--limit', 'lb1', '--diff']);
    await run(['up', file, '--limit', 'lb1', '--json', '--diff']);
    const rev2 = labInventory(`playbook: ${pb}\nvars:\n  canary: !secret env:LBD_CANARY\n  canary_rev: 2\n`);
    await run(['plan', rev2, '--limit', 'lb1']);
    await run(['plan', rev2, '--limit', 'lb1', '--json']);
    await run(['hosts', file]);
    await run(['hosts', file, '--json']);
    await run(['facts', file, '--limit', 'lb1']);
    const short = labInventory(`playbook: ${pb}\nvars:\n  canary: !secret env:LBD_CANARY\n`);
    await run(['up', short], { LBD_CANARY: 'CANARY-x' }); // fails the schema (minLength): the error must not show it
    assert.match(await onHost('lb1', 'cat /etc/lbdeploy-canary.conf'), new RegExp(canary), 'the secret did reach the host');
    assert.match(all(), /diff hidden: the file holds secrets/);
    assert.match(all(), /\*\*\*\*\*\*\*\*/, 'masked values are shown as ********');
    assert.ok(all().includes('the secret is ********'), 'command output is masked, not dropped');
    for (const leak of [canary, Buffer.from(canary).toString('base64'), 'CANARY-x', 'CANARY-short']) assert.ok(!all().includes(leak), `leaked ${leak}`);
    await onHost('lb1', 'rm -f /etc/lbdeploy-canary.conf');
  });
});
