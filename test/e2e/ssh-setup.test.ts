/**
 * The operator's own SSH set-up against the lab's real sshd: a key only in ssh-agent (none in the
 * inventory), hosts reached through ~/.ssh/config (an alias with HostName, User, IdentityFile and
 * a ProxyJump through a lab host), and an encrypted key with its passphrase from an environment
 * variable. Each case runs lbdeploy with a HOME of its own, so the machine's own ~/.ssh is not used.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { ensureLab, onHost } from '../helpers/lab.js';
import { labPaths } from '../../src/lab/paths.js';

describe('the operator\'s SSH set-up: ssh-agent, ~/.ssh/config with ProxyJump, an encrypted key (end-to-end on the lab)', function () {
  this.timeout(120_000);
  const home = mkdtempSync(join(tmpdir(), 'lbdeploy-home-'));
  const p = labPaths();
  let agent: ChildProcess | undefined;
  const sock = join(home, 'agent.sock');
  let n = 0;
  /** An inventory of `hosts` with the lab's known_hosts, strict, and `connection` added (no key unless it names one). */
  const inventory = (hosts: string, connection = ', user: root') => {
    const file = join(home, `inv-${++n}.yaml`);
    writeFileSync(file, `connection: { known_hosts: ${p.knownHosts}, host_key_checking: strict${connection} }\ngroups:\n  lb:\n    hosts:\n${hosts}\n`);
    return file;
  };
  const facts = async (file: string, env: NodeJS.ProcessEnv) => {
    const r = await cli(['facts', file, '--json'], { HOME: home, SSH_AUTH_SOCK: '', ...env });
    return { ...r, hostnames: r.code === 0 ? (JSON.parse(r.stdout) as { facts: { hostname: string } }[]).map((x) => x.facts.hostname) : [] };
  };

  before(async function () {
    this.timeout(900_000);
    await ensureLab();
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  });
  after(async () => {
    agent?.kill();
    await onHost('lb1', 'sed -i "/lbdeploy-e2e-encrypted/d" /root/.ssh/authorized_keys').catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  });

  it('a key only in ssh-agent: no private_key anywhere, and without the agent no way in', async () => {
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    // The agent's socket appears once it listens (bounded: 5 s).
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    execFileSync('ssh-add', [p.clientKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const file = inventory('      lb1: { address: 198.18.0.11 }\n      lb2: { address: 198.18.0.12 }');
    const withAgent = await facts(file, { SSH_AUTH_SOCK: sock });
    assert.equal(withAgent.code, 0, withAgent.stdout + withAgent.stderr);
    assert.deepEqual(withAgent.hostnames, ['lb1', 'lb2']);
    const without = await facts(file, {});
    assert.notEqual(without.code, 0);
    assert.match(without.stdout + without.stderr, /no way to authenticate as root@198\.18\.0\.11/);
  });

  it('~/.ssh/config: an alias dialled at its HostName through a ProxyJump host, user and key from the config', async () => {
    copyFileSync(p.clientKey, join(home, '.ssh', 'lab_key'));
    execFileSync('chmod', ['600', join(home, '.ssh', 'lab_key')]);
    writeFileSync(join(home, '.ssh', 'config'), [
      'Host lb2-alias', '  HostName 198.18.0.12', '  User root', '  IdentityFile ~/.ssh/lab_key', '  ProxyJump jumpbox',
      'Host jumpbox', '  HostName 198.18.0.11', '  User root', '  IdentityFile ~/.ssh/lab_key', '',
    ].join('\n'));
    const since = (await onHost('lb2', 'date +%s')).trim();
    const r = await facts(inventory('      lb2: { address: lb2-alias }', ''), {});
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(r.hostnames, ['lb2']);
    const log = await onHost('lb2', `journalctl -u ssh --no-pager --since @${since}`);
    assert.match(log, /Accepted publickey for root from 198\.18\.0\.11 /, 'lb2 was reached from lb1, the ProxyJump host');
    rmSync(join(home, '.ssh', 'config'));
  });

  it('an encrypted key: its passphrase from the environment variable the inventory names; without it, refused before connecting', async () => {
    const key = join(home, 'encrypted_key');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'lab passphrase', '-C', 'lbdeploy-e2e-encrypted', '-f', key]);
    await onHost('lb1', `echo ${JSON.stringify(readFileSync(`${key}.pub`, 'utf8').trim())} >> /root/.ssh/authorized_keys`);
    const file = inventory('      lb1: { address: 198.18.0.11 }', `, private_key: ${key}, private_key_passphrase: !secret env:LAB_KEY_PASS`);
    const ok = await facts(file, { LAB_KEY_PASS: 'lab passphrase' });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepEqual(ok.hostnames, ['lb1']);
    assert.doesNotMatch(ok.stdout + ok.stderr, /lab passphrase/);
    const wrong = await facts(file, { LAB_KEY_PASS: 'not it' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stdout + wrong.stderr, /the passphrase for .*encrypted_key does not decrypt it/);
    const none = await facts(inventory('      lb1: { address: 198.18.0.11 }', `, private_key: ${key}`), {});
    assert.notEqual(none.code, 0);
    assert.match(none.stdout + none.stderr, /encrypted_key is encrypted, and there is no terminal to ask its passphrase on/);
  });
});
