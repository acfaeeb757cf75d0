/**
 * The operator's path, as a new user takes it: the package as npm would publish it (`npm pack`),
 * installed into a fresh CommonJS project and a fresh ESM project with nothing else; `lbdeploy
 * init` writes an inventory and a playbook of the operator's own, and `plan` runs both against the
 * lab. Nothing here resolves lbdeploy from this repository.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { labPaths } from '../../src/lab/paths.js';
import { ensureLab } from '../helpers/lab.js';

interface Run { code: number | null; out: string }

function run(cmd: string, args: string[], cwd: string, timeoutMs = 240_000): Promise<Run> {
  return new Promise((res) => {
    // npm_config_* of the test's own npm run would point npm at this repository: a new user has none.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const child = spawn(cmd, args, { cwd, env: { ...env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('the package, installed from npm pack into an operator\'s own project', function () {
  this.timeout(600_000);
  let work: string;
  let tarball: string;

  before(async () => {
    await ensureLab();
    work = mkdtempSync(join(tmpdir(), 'lbdeploy-pack-'));
    // dist/ is built by `npm test`'s pretest; packing again would only rebuild it.
    const r = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work], process.cwd());
    assert.equal(r.code, 0, r.out);
    tarball = join(work, `lbdeploy-${VERSION}.tgz`);
    assert.ok(existsSync(tarball), r.out);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('ships the engine, the bundled playbooks and the schema, not the tests', async () => {
    const r = await run('tar', ['tzf', tarball], work);
    const files = r.out.split('\n');
    for (const f of ['package/dist/src/cli/main.js', 'package/dist/src/index.d.ts', 'package/dist/inventory.schema.json', 'package/dist/playbooks/haproxy-keepalived.js', 'package/files/check_haproxy.sh']) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.deepEqual(files.filter((f) => f.startsWith('package/dist/test/') || f.startsWith('package/dist/bench/')), []);
  });

  for (const type of ['commonjs', 'module'] as const) {
    it(`a ${type} project: npx lbdeploy, init, and plan with its own .ts playbook against the lab`, async () => {
      const p = labPaths();
      const project = join(work, `infra-${type}`);
      mkdirSync(project);
      // `npm init -y` gives no "type" (CommonJS); an ESM project says so.
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: `infra-${type}`, version: '1.0.0', private: true, ...(type === 'module' ? { type } : {}) }, null, 2));
      const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
      assert.equal(install.code, 0, install.out);
      const npx = (...args: string[]) => run('npx', ['--no-install', 'lbdeploy', ...args], project);

      const version = await npx('--version');
      assert.equal(version.out.trim().split('\n').pop(), VERSION, version.out);

      const init = await npx('init', 'haproxy-keepalived', 'lb-site', '--lb', 'lb1=198.18.0.11,lb2=198.18.0.12', '--backends', 'web1=198.18.0.21,web2=198.18.0.22',
        '--client', 'client=198.18.0.30', '--vip', '198.18.0.150/24', '--vrid', '57', '--private-key', p.clientKey, '--known-hosts', p.knownHosts);
      assert.equal(init.code, 0, init.out);
      const inventory = readFileSync(join(project, 'lb-site/inventory.yaml'), 'utf8');
      const modeline = /^# yaml-language-server: \$schema=(\S+)$/m.exec(inventory);
      assert.ok(modeline, inventory);
      assert.equal(resolve(project, 'lb-site', modeline[1]!), join(project, 'node_modules/lbdeploy/dist/inventory.schema.json'), 'the modeline names the installed schema');
      assert.ok(existsSync(resolve(project, 'lb-site', modeline[1]!)));
      const again = await npx('init', 'haproxy-keepalived', 'lb-site');
      assert.equal(again.code, 3, 'init refuses to overwrite');
      assert.match(again.out, /already exist.*nothing written/);

      const plan = await npx('plan', 'lb-site/inventory.yaml');
      assert.equal(plan.code, 0, plan.out);
      // The operator's own playbook ran, with the public API imported from the installed package.
      assert.match(plan.out, /PLAY site: site facts for the on-call \[lb1, lb2\]/);
      assert.match(plan.out, /\+lb1 is a load balancer managed by lbdeploy; its peers: lb2/);
      assert.match(plan.out, /PLAY haproxy-keepalived/);
      assert.match(plan.out, /vrrp_instance VI_1/);

      // Plain CommonJS code of the operator's may require the public API too (the ESM entry).
      if (type === 'commonjs') {
        const req = await run(process.execPath, ['-e', "const l = require('lbdeploy'); console.log(typeof l.definePlaybook, typeof l.file)"], project);
        assert.match(req.out, /^function function$/m, req.out);
      }
      assert.equal(dirname(tarball), work);
    });
  }
});
