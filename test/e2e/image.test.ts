/**
 * lbdeploy's own OCI image: built offline by `lbdeploy image build`, it runs the audit against the
 * lab from a container on the lab's network, as the printed CronJob would in a cluster: a pinned
 * tag, an unprivileged user, no npm or npx inside, nothing fetched at run time.
 */
import { strict as assert } from 'node:assert';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $ } from '../../src/shell-local.js';
import { cli } from '../helpers/cli.js';
import { ensureLab } from '../helpers/lab.js';
import { labPaths } from '../../src/lab/paths.js';
import { LAB_NETWORK } from '../../src/lab/topology.js';

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const TAG = `lbdeploy:${VERSION}`;

describe('the lbdeploy image (for the audit CronJob)', function () {
  this.timeout(600_000);
  let secretDir: string;

  before(async () => {
    await ensureLab();
    // What the CronJob mounts from its Secret: the inventory, the SSH key and known_hosts, side by side.
    secretDir = mkdtempSync(join(tmpdir(), 'lbdeploy-secret-'));
    const p = labPaths();
    copyFileSync(p.clientKey, join(secretDir, 'id_ed25519'));
    copyFileSync(p.knownHosts, join(secretDir, 'known_hosts'));
    writeFileSync(join(secretDir, 'inventory.yaml'), readFileSync('inventory/lab.yaml', 'utf8')
      .replace('../.lbdeploy/lab/id_ed25519', 'id_ed25519').replace('../.lbdeploy/lab/known_hosts', 'known_hosts'));
    // The Secret's files, readable by the image's user (fsGroup in the CronJob); the folder too.
    for (const f of ['id_ed25519', 'known_hosts', 'inventory.yaml']) chmodSync(join(secretDir, f), 0o444);
    chmodSync(secretDir, 0o755);
  });
  after(() => rmSync(secretDir, { recursive: true, force: true }));

  it('`lbdeploy image build` tags the package version and labels it', async () => {
    const r = await cli(['image', 'build']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^built ${TAG} in \\d+ s`, 'm'));
    const labels = JSON.parse((await $`docker image inspect -f ${'{{json .Config}}'} ${TAG}`.quiet()).stdout) as { User: string; Labels: Record<string, string>; Entrypoint: string[] };
    assert.equal(labels.Labels['org.opencontainers.image.version'], VERSION);
    assert.equal(labels.User, '65532');
    assert.deepEqual(labels.Entrypoint, ['/usr/local/bin/node', '/opt/lbdeploy/dist/src/cli/main.js']);
  });

  it('has no npm or npx: nothing can be downloaded at run time', async () => {
    const r = await $`docker run --rm --network none --entrypoint /bin/sh ${TAG} -c ${'command -v npm npx || echo none'}`.nothrow().quiet();
    assert.equal(r.stdout.trim(), 'none');
    const v = await $`docker run --rm --network none ${TAG} --version`.quiet();
    assert.equal(v.stdout.trim(), VERSION);
  });

  it('runs the audit against the lab, read-only, as the CronJob does (its args, its Secret mount)', async () => {
    const schedule = await cli(['audit', join(secretDir, 'inventory.yaml'), '--print-schedule']);
    assert.match(schedule.stdout, new RegExp(`image: ${TAG.replace(/\./g, '\\.')}\\n`));
    const args = JSON.parse(/args: (\[.*\])/.exec(schedule.stdout)![1]!) as string[];
    const r = await $`docker run --rm --network ${LAB_NETWORK.name} --read-only -v ${`${secretDir}:/etc/lbdeploy:ro`} ${TAG} ${args}`.nothrow().quiet();
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as { status: string; checks: { check: string; target: string; severity: string }[] };
    assert.equal(report.status, 'ok');
    assert.ok(report.checks.some((c) => c.check === 'vip holder' && c.severity === 'ok'), r.stdout);
    assert.ok(report.checks.some((c) => c.check === 'drift'), 'drift ran: the planner works inside the image');
    assert.doesNotMatch(r.stdout + r.stderr, /lab-vrrp|lab-stats-password/);
  });
});
