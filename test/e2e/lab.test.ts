/** Smoke tests of the lab itself: real sshd, systemd, nginx and docker in every host. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from '../../src/shell-local.js';
import { connectLab, ensureLab, labHost } from '../helpers/lab.js';
import { printfEscapes, proxyV2Header } from '../helpers/proxy-v2.js';
import { sh } from '../../src/connection/shell.js';
import { connectSsh, type Connection } from '../../src/connection/ssh.js';
import { labStatus, labUp } from '../../src/lab/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { LAB_HOSTS, WEB_PORTS, containerName } from '../../src/lab/topology.js';
import { ConnectionError } from '../../src/errors.js';

const WEB = LAB_HOSTS.filter((h) => h.role === 'web');
const CLIENT = labHost('client');

describe('lab (end-to-end)', function () {
  this.timeout(120_000);
  let client: Connection;

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    client = await connectLab('client');
  });
  after(async () => client?.close());

  describe('every host over SSH, host key verified against the lab known_hosts', () => {
    for (const h of LAB_HOSTS) {
      it(`${h.name} (${h.address}): systemd is running and the hostname is right`, async () => {
        const conn = await connectLab(h.name);
        try {
          const r = await conn.exec(sh`systemctl is-system-running; hostname; ip -4 -o addr show`);
          const [state, hostname] = r.stdout.split('\n');
          assert.equal(state, 'running', r.stdout + r.stderr);
          assert.equal(hostname, h.name);
          assert.match(r.stdout, new RegExp(`inet ${h.address.replace(/\./g, '\\.')}/24`));
        } finally {
          await conn.close();
        }
      });
    }
  });

  it('lets the deploy user become root with sudo -n', async () => {
    const conn = await connectLab('lb1', 'deploy');
    try {
      const r = await conn.exec(sh`id -un; sudo -n id -un`);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'deploy\nroot\n');
    } finally {
      await conn.close();
    }
  });

  it('refuses a host whose key differs from known_hosts, before authenticating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-kh-'));
    try {
      const lb1 = labHost('lb1');
      const wrong = readFileSync(labPaths().knownHosts, 'utf8').split('\n')
        .filter((l) => l.startsWith(`${labHost('lb2').address},`))
        .map((l) => l.replace(/^\S+/, lb1.address)).join('\n');
      writeFileSync(join(dir, 'known_hosts'), wrong + '\n');
      await assert.rejects(connectSsh({
        name: 'lb1', address: lb1.address, user: 'root', privateKeyPath: labPaths().clientKey,
        knownHostsPath: join(dir, 'known_hosts'), hostKeyPolicy: 'strict',
      }), (e: unknown) => e instanceof ConnectionError && /does not match/.test(e.message) && e.where === 'lb1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a Docker engine inside each LB host', async () => {
    for (const name of ['lb1', 'lb2', 'lb3']) {
      const conn = await connectLab(name);
      try {
        const r = await conn.exec(sh`systemctl is-active docker; docker info --format '{{.Driver}}'`);
        assert.equal(r.stdout, 'active\nvfs\n', `${name}: ${r.stdout}${r.stderr}`);
      } finally {
        await conn.close();
      }
    }
  });

  it('ships LB images without haproxy, keepalived or ipvsadm: deploying them is lbdeploy\'s job', async () => {
    const image = (await $`docker inspect --format {{.Config.Image}} ${containerName(labHost('lb1'))}`.quiet()).stdout.trim();
    const r = await $`docker run --rm --entrypoint /bin/sh ${image} -c ${'for c in haproxy keepalived ipvsadm docker; do command -v $c; done; true'}`.quiet();
    assert.equal(r.stdout, '/usr/bin/docker\n');
  });

  describe('web backends seen from the client', () => {
    for (const w of WEB) {
      it(`${w.name}: plain port names the host and the client address`, async () => {
        const r = await client.exec(sh`curl -sS --max-time 5 http://${w.address}:${WEB_PORTS.plain}/`);
        assert.equal(r.stdout, `host=${w.name} port=${WEB_PORTS.plain} client=${CLIENT.address}\n`, r.stderr);
      });

      it(`${w.name}: PROXY v1 (curl --haproxy-protocol) passes the client address`, async () => {
        const r = await client.exec(sh`curl -sS --max-time 5 --haproxy-protocol http://${w.address}:${WEB_PORTS.proxyProtocol}/`);
        assert.equal(r.stdout, `host=${w.name} port=${WEB_PORTS.proxyProtocol} client=${CLIENT.address} peer=${CLIENT.address}\n`, r.stderr);
      });

      it(`${w.name}: PROXY v2 header's source address is what the page shows`, async () => {
        for (const src of [CLIENT.address, '198.18.0.99']) {
          const header = printfEscapes(proxyV2Header(src, w.address, 40000, WEB_PORTS.proxyProtocol));
          // One write for header and request: nginx wants the whole PROXY header in its first read,
          // and bash's printf to /dev/tcp splits at NUL bytes, so curl's telnet:// sends the bytes.
          const r = await client.exec(
            sh`printf ${header + 'GET / HTTP/1.0\\r\\n\\r\\n'} | curl -sS --max-time 5 telnet://${w.address}:${WEB_PORTS.proxyProtocol}`);
          assert.match(r.stdout, /^HTTP\/1\.1 200 OK/);
          assert.ok(r.stdout.endsWith(`\r\n\r\nhost=${w.name} port=${WEB_PORTS.proxyProtocol} client=${src} peer=${CLIENT.address}\n`), r.stdout);
        }
      });
    }

    it('the PROXY-protocol port refuses a request without the header', async () => {
      const r = await client.exec(sh`curl -sS --max-time 5 http://${WEB[0]!.address}:${WEB_PORTS.proxyProtocol}/`);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
    });
  });

  it('status shows every host answering SSH (and the VMs, once started)', async () => {
    const statuses = await labStatus();
    const containers = statuses.filter((s) => s.role !== 'vm');
    assert.deepEqual(containers.map((s) => `${s.name}:${s.ssh}:${s.system}`), LAB_HOSTS.map((h) => `${h.name}:true:running`));
    for (const vm of statuses.filter((s) => s.role === 'vm')) assert.equal(`${vm.name}:${vm.ssh}:${vm.system}`, `${vm.name}:true:running`);
  });

  it('a second lab up changes nothing: same containers, still answering', async function () {
    this.timeout(300_000);
    const ids = async () => (await $`docker inspect --format {{.Id}} ${LAB_HOSTS.map(containerName)}`.quiet()).stdout;
    const before = await ids();
    const statuses = await labUp(() => undefined);
    assert.equal(await ids(), before);
    assert.ok(statuses.every((s) => s.ssh));
  });
});
