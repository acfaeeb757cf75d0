/**
 * Seed 001 for real: haproxy on lb1..lb3 balances the lab's three real kube-apiservers
 * (src/lab/control-plane.ts) on VIP:6443, each checked over TLS on /readyz. kubectl on the client
 * reads through the VIP with the kubeconfig lbdeploy distributed to the LB nodes; one API server
 * stopped is marked down within its check interval while reads through the VIP keep working; the
 * VIP holder taken away costs reads only for the failover. A renewal by `kubeadm certs renew`
 * is rotated to the LB nodes, each of whose new kubeconfigs then reads through the VIP, and the
 * expiry lbdeploy reports is the one kubeadm reports. A bootstrap cut short is undone and made
 * again by the lab, keeping its CA.
 */
import { strict as assert } from 'node:assert';
import { cli, events, labInventoryCopy } from '../helpers/cli.js';
import { ensureLab, labHost, onHost } from '../helpers/lab.js';
import { $ } from '../../src/shell-local.js';
import { containerName } from '../../src/lab/topology.js';
import { checkExpiration, ensureControlPlane } from '../../src/lab/control-plane.js';

const VIP = '198.18.0.100';
const KUBECONFIG = '/root/kubecfg01.conf';
const LBS = ['lb1', 'lb2', 'lb3'];
/** kubectl on the client, through the VIP, with the distributed kubeconfig's own credentials. */
const KUBECTL = `kubectl --kubeconfig ${KUBECONFIG} --server https://${VIP}:6443 --request-timeout=2s`;

/** haproxy's view of one API server on an LB node: UP or DOWN (and what its last check said). */
async function serverState(lb: string, master: string): Promise<string> {
  const csv = await onHost(lb, `echo 'show stat' | socat - /run/haproxy/admin.sock`);
  const row = csv.split('\n').find((l) => l.startsWith(`kube-apiserver,${master},`));
  assert.ok(row, `${lb}: no kube-apiserver/${master} row in show stat`);
  const cols = row.split(',');
  return `${cols[17]} ${cols[36]}`.trim();
}

/** Reads through the VIP on the client: `count` of them, one every `everyMs`, each at most `timeoutS`; each line "ms rc". Bounded in count and time. */
async function readLoop(count: number, everyMs: number, timeoutS = 2): Promise<{ t: number; ok: boolean }[]> {
  const out = await onHost('client', `i=0; while [ $i -lt ${count} ]; do s=$(date +%s%3N); ${KUBECTL.replace('--request-timeout=2s', `--request-timeout=${timeoutS}s`)} get --raw /api/v1/namespaces/kube-system >/dev/null 2>&1; echo "$s $?"; i=$((i+1)); sleep ${everyMs / 1000}; done`);
  return out.trim().split('\n').map((l) => {
    const [t, rc] = l.split(' ');
    return { t: Number(t), ok: rc === '0' };
  });
}

describe('seed 001 for real: haproxy in front of three real kube-apiservers (end-to-end on the lab)', function () {
  this.timeout(300_000);

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    const up = await cli(['up', labInventoryCopy()]);
    assert.equal(up.code, 0, up.stdout + up.stderr);
    // The kubeconfig lbdeploy distributed to lb1 (admin.conf of master1), onto the client.
    const conf = await onHost('lb1', 'cat /etc/keepalived/kubecfg/kubecfg01.conf');
    await onHost('client', `umask 077; cat > ${KUBECONFIG} <<'EOF'\n${conf}EOF`);
  });

  after(async () => {
    for (const lb of LBS) await $`docker unpause ${containerName(labHost(lb))}`.nothrow().quiet();
    // etcd too: the bootstrap test stops it on master3 before the repair starts it again.
    for (const m of ['master1', 'master2', 'master3']) await onHost(m, 'systemctl start etcd kube-apiserver').catch(() => undefined);
    for (const lb of LBS) await onHost(lb, 'systemctl start keepalived').catch(() => undefined);
    await onHost('client', `rm -f ${KUBECONFIG}`).catch(() => undefined);
  });

  it('kubectl reads through the VIP with the distributed kubeconfig, as cluster admin; verify asks /readyz through both VIPs', async () => {
    const ns = await onHost('client', `${KUBECTL} get namespaces -o name`);
    assert.match(ns, /^namespace\/kube-system$/m);
    assert.equal((await onHost('client', `${KUBECTL} auth can-i '*' '*'`)).trim(), 'yes');
    for (const lb of LBS) {
      for (const m of ['master1', 'master2', 'master3']) assert.match(await serverState(lb, m), /^UP L7OK/, `${lb}: ${m}`);
    }
    const v = await cli(['verify', labInventoryCopy()]);
    assert.equal(v.code, 0, v.stdout);
    assert.match(v.stdout, /https via vip +kube-apiserver 198\.18\.0\.100:6443 +ok/);
    assert.match(v.stdout, /https via vip +kube-apiserver \[2001:2::100\]:6443 +ok/);
    // kubeconfig.verify_server: each distributed kubeconfig reads the API through the VIP on its node.
    // The LB nodes have kubectl: the check reads with it.
    assert.equal([...v.stdout.matchAll(/^kubeconfig via endpoint +lb\d \/etc\/keepalived\/kubecfg\/kubecfg0\d\.conf +ok +read the API through https:\/\/198\.18\.0\.100:6443 with its credentials \(kubectl\)/gm)].length, 9, v.stdout);
    // The same check on a node without kubectl: curl with the kubeconfig's credentials, against the real API server.
    const withoutKubectl = `d=$(mktemp -d); for b in sed head tr base64 mktemp rm chmod curl grep; do ln -s "$(command -v $b)" "$d/$b"; done`;
    const viaCurl = await onHost('lb1', `${withoutKubectl}; PATH=$d /usr/local/sbin/lbdeploy-check-kubeconfig /etc/keepalived/kubecfg/kubecfg01.conf https://${VIP}:6443; rc=$?; rm -rf "$d"; exit $rc`);
    assert.equal(viaCurl.trim(), 'curl');
  });

  it('one API server stopped: haproxy marks it down within its checks, and reads through the VIP never fail', async () => {
    const t0 = Date.now();
    await onHost('master2', 'systemctl kill -s KILL kube-apiserver && systemctl stop kube-apiserver');
    // check_inter 1s, check_fall 2: DOWN after two failed checks.
    let down = -1;
    for (let i = 0; i < 50 && down < 0; i++) {
      if ((await serverState('lb1', 'master2')).startsWith('DOWN')) down = Date.now() - t0;
      else await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(down >= 0, 'haproxy never marked master2 down');
    process.stderr.write(`      master2 marked DOWN by lb1's haproxy ${down} ms after its API server was killed\n`);
    assert.ok(down <= 6000, `marked down after ${down} ms (checks every 1 s, 2 to fall)`);
    const reads = await readLoop(30, 100);
    assert.equal(reads.filter((r) => !r.ok).length, 0, `${reads.filter((r) => !r.ok).length} of ${reads.length} reads failed`);
    await onHost('master2', 'systemctl start kube-apiserver');
    let up = false;
    for (let i = 0; i < 120 && !up; i++) {
      up = (await serverState('lb1', 'master2')).startsWith('UP');
      if (!up) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(up, 'master2 came back UP in haproxy once its API server started again');
  });

  it('kubeadm certs renew on the masters: rotation distributes the renewed credentials, each works through the VIP, and lbdeploy reports the expiry kubeadm does', async function () {
    this.timeout(600_000);
    const renew = await cli(['lab', 'renew-certs', '--kubeadm', '-o', 'json']);
    assert.equal(renew.code, 0, renew.stdout + renew.stderr);
    const inv = labInventoryCopy();
    const r = await cli(['rotate-kubeconfig', inv, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(events(r.stdout).filter((e) => e.type === 'step' && e.status === 'changed' && !e.handler).length, 9, 'each master\'s renewed admin.conf on each of 3 nodes');
    const notes = events(r.stdout).filter((e) => e.type === 'note').map((e) => String(e.text));
    for (const m of ['master1', 'master2', 'master3']) {
      // kubeadm's certificate names O before CN.
      const said = new RegExp(`^${m}: O=system:masters, CN=kubernetes-admin, valid until (\\S+) `).exec(notes.find((n) => n.startsWith(`${m}:`)) ?? '');
      assert.ok(said, `no expiry noted for ${m}: ${notes.join(' | ')}`);
      const kubeadm = (await checkExpiration(labHost(m))).get('admin.conf');
      assert.ok(kubeadm, `${m}: kubeadm reports no admin.conf`);
      // kubeadm prints the minute: the same instant, to the minute.
      const diff = Math.abs(Date.parse(said[1]!) - Date.parse(kubeadm.expires));
      assert.ok(diff < 60_000, `${m}: lbdeploy says ${said[1]}, kubeadm ${kubeadm.expires}`);
      assert.match(kubeadm.residual, /^36[45]d$/, 'renewed for a year');
    }
    for (const lb of LBS) {
      for (const f of ['kubecfg01.conf', 'kubecfg02.conf', 'kubecfg03.conf']) {
        const conf = await onHost(lb, `cat /etc/keepalived/kubecfg/${f}`);
        await onHost('client', `umask 077; cat > /root/rotated.conf <<'EOF'\n${conf}EOF`);
        const ns = await onHost('client', `kubectl --kubeconfig /root/rotated.conf --server https://${VIP}:6443 --request-timeout=5s get namespace kube-system -o name; rm -f /root/rotated.conf`);
        assert.equal(ns.trim(), 'namespace/kube-system', `${lb} ${f}`);
      }
    }
  });

  it('the VIP holder taken away: reads through the VIP fail at most for the failover', async () => {
    const holder = await holderOfVip();
    // 60 reads, one every 100 ms (each at most 2 s): the holder's keepalived stops 1 s in.
    const loop = readLoop(60, 100);
    await new Promise((r) => setTimeout(r, 1000));
    const stopped = Date.now();
    await onHost(holder, 'systemctl stop keepalived');
    const reads = await loop;
    await onHost(holder, 'systemctl start keepalived');
    const failed = reads.filter((r) => !r.ok);
    const window = failed.length > 0 ? failed[failed.length - 1]!.t - failed[0]!.t : 0;
    process.stderr.write(`      VIP holder ${holder} stopped: ${failed.length} of ${reads.length} reads through the VIP failed, over ${window} ms\n`);
    assert.ok(reads.some((r) => r.ok && r.t > stopped + 500), 'reads work again after the failover');
    assert.ok(window <= 4000, `reads failed over ${window} ms (a failover takes about a second in the lab)`);
    assert.ok(reads.slice(-10).every((r) => r.ok), 'the last reads all work');
  });

  it('the VIP holder frozen as in a crash (docker pause): reads through the VIP fail only until the backup takes over', async () => {
    const holder = await holderOfVip();
    // 80 reads, one every 100 ms (each at most 1 s): the holder freezes 2 s in, for 8 s, then comes back (and takes the VIP back).
    const loop = readLoop(80, 100, 1);
    await new Promise((r) => setTimeout(r, 2000));
    const frozen = Date.now();
    await $`docker pause ${containerName(labHost(holder))}`.quiet();
    try {
      await new Promise((r) => setTimeout(r, 8000));
    } finally {
      await $`docker unpause ${containerName(labHost(holder))}`.quiet();
    }
    const reads = await loop;
    const failed = reads.filter((r) => !r.ok);
    const window = failed.length > 0 ? failed[failed.length - 1]!.t + 1000 - failed[0]!.t : 0;
    process.stderr.write(`      VIP holder ${holder} frozen: ${failed.length} of ${reads.length} reads through the VIP failed, over ${window} ms (the backup takes over after 3 missed adverts)\n`);
    assert.ok(window <= 6000, `reads failed over ${window} ms`);
    assert.ok(reads.some((r) => r.ok && r.t > frozen + 1000 && r.t < frozen + 8000), 'reads work through the backup while the holder is frozen');
    assert.ok(reads.slice(-5).every((r) => r.ok), 'the last reads all work');
  });

  it('a bootstrap cut short (one master never finished, etcd stopped on another) is undone and made again: the CA kept, rotated kubeconfigs read through the VIP', async function () {
    this.timeout(600_000);
    const caBefore = await onHost('master1', 'cat /etc/kubernetes/pki/ca.crt');
    const keyBefore = await onHost('master1', 'cat /etc/kubernetes/pki/sa.pub');
    await onHost('master2', 'rm /etc/kubernetes/lab/bootstrapped');
    await onHost('master3', 'systemctl stop etcd');
    const said: string[] = [];
    await ensureControlPlane((line) => said.push(line));
    assert.match(said.join('\n'), /bootstrap was cut short \(not finished on master2\): undoing it on every master/);
    assert.match(said.join('\n'), /control plane ready: kube-apiserver v1\.20\.2 on master1, master2, master3/);
    for (const m of ['master1', 'master2', 'master3']) assert.equal(await onHost(m, 'cat /etc/kubernetes/pki/ca.crt'), caBefore, `${m}: the lab's CA stays (clients trust it)`);
    assert.notEqual(await onHost('master1', 'cat /etc/kubernetes/pki/sa.pub'), keyBefore, 'what the bootstrap made was made again');
    const r = await cli(['rotate-kubeconfig', labInventoryCopy(), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(events(r.stdout).filter((e) => e.type === 'step' && e.status === 'changed' && !e.handler).length, 9, 'each master\'s new admin.conf on each of 3 nodes');
    const v = await cli(['verify', labInventoryCopy()]);
    assert.equal(v.code, 0, v.stdout);
    assert.equal([...v.stdout.matchAll(/^kubeconfig via endpoint +lb\d \S+ +ok +read the API through https:\/\/198\.18\.0\.100:6443 with its credentials \(kubectl\)/gm)].length, 9, v.stdout);
  });
});

/** The LB node holding the IPv4 VIP. */
async function holderOfVip(): Promise<string> {
  const holder = (await Promise.all(LBS.map(async (lb) => ((await onHost(lb, `ip -o addr show | grep -c ' ${VIP}/' || true`)).trim() === '1' ? lb : undefined)))).find(Boolean);
  assert.ok(holder, 'a node holds the VIP');
  return holder;
}
