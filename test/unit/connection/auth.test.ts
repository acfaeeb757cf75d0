/**
 * How lbdeploy offers itself to sshd (connection/ssh.ts authMethods), with real keys made by
 * ssh-keygen: the inventory's key alone; else ssh-agent, then the identities; the password last;
 * an encrypted key only with its passphrase (given, or typed), else left out and named.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authMethods, type SshTarget } from '../../../src/connection/ssh.js';
import { ConnectionError } from '../../../src/errors.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';

describe('connection: the ways to authenticate, in OpenSSH\'s order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-auth-'));
  const plain = join(dir, 'plain');
  const locked = join(dir, 'locked');
  before(() => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', plain]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'open sesame', '-f', locked]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const target = (o: Partial<SshTarget>): SshTarget => ({ name: 'h1', address: '198.18.0.11', user: 'root', knownHostsPath: '/dev/null', ...o });
  const kinds = async (o: Partial<SshTarget>) => (await authMethods(target(o))).methods.map((m) => (m.type === 'publickey' ? `key:${m.key.length > 0 ? 'read' : '?'}${m.passphrase ? '+passphrase' : ''}` : m.type));

  const CASES: [title: string, o: () => Partial<SshTarget>, want: string[], tried: (string | RegExp)[]][] = [
    ['the inventory\'s key alone: no agent, no other identity', () => ({ privateKeyPath: plain, agent: '/tmp/agent.sock', identities: [locked] }), ['key:read'], [plain]],
    ['no inventory key: ssh-agent first, then each identity, the password last', () => ({ agent: '/tmp/agent.sock', identities: [plain], password: 'pw' }), ['agent', 'key:read', 'password'], ['ssh-agent', plain, 'password']],
    ['an encrypted identity with its passphrase', () => ({ identities: [locked], passphrase: 'open sesame' }), ['key:read+passphrase'], [locked]],
    ['an encrypted identity with the passphrase typed when asked', () => ({ identities: [locked], askPassphrase: async () => 'open sesame' }), ['key:read+passphrase'], [locked]],
  ];
  for (const [title, o, want, tried] of CASES) {
    it(title, async () => {
      assert.deepEqual(await kinds(o()), want);
      assert.deepEqual((await authMethods(target(o()))).tried, tried);
    });
  }

  it('an encrypted identity with no passphrase (no terminal) is left out and named; the others are still offered', async () => {
    const a = await authMethods(target({ identities: [locked, plain], askPassphrase: async () => undefined }));
    assert.deepEqual(a.tried, [plain]);
    assert.deepEqual(a.skipped, [`${locked} (encrypted, no passphrase)`]);
  });

  it('nothing to offer: refused before connecting, saying what to do', async () => {
    await assert.rejects(authMethods(target({ identities: [locked] })), (e: unknown) => {
      assert.ok(e instanceof ConnectionError);
      assert.match(e.message, /no way to authenticate as root@198\.18\.0\.11: .*locked \(encrypted, no passphrase\)/);
      assert.match(e.hint ?? '', /private_key_passphrase: !secret env:NAME/);
      return true;
    });
    await assert.rejects(authMethods(target({})), /no way to authenticate as root@198\.18\.0\.11$/);
  });

  it('an inventory key that is encrypted, with no passphrase and no terminal: refused at its line before connecting', async () => {
    const tty = process.stdin.isTTY;
    process.stdin.isTTY = false as never;
    try {
      const yaml = (extra: string) => `connection: { private_key: ${locked}${extra} }\ngroups:\n  lb:\n    hosts:\n      h1: { address: 198.18.0.11 }\n`;
      await assert.rejects(parseInventory(join(dir, 'inv.yaml'), yaml(''), { env: {} }), (e: unknown) => {
        assert.ok(e instanceof InventoryError);
        assert.match(e.issues[0]!.where, /inv\.yaml:1:\d+$/);
        assert.match(e.issues[0]!.message, /is encrypted, and there is no terminal to ask its passphrase on/);
        return true;
      });
      const inv = await parseInventory(join(dir, 'inv.yaml'), yaml(', private_key_passphrase: !secret env:KEY_PASS'), { env: { KEY_PASS: 'open sesame' } });
      assert.equal(inv.hosts[0]!.connection.passphrase?.reveal(), 'open sesame');
      assert.equal(inv.masker.mask('it was open sesame'), 'it was ********');
    } finally {
      process.stdin.isTTY = tty;
    }
  });

  it('a wrong passphrase is an error naming the key, not a silent skip', async () => {
    await assert.rejects(authMethods(target({ privateKeyPath: locked, passphrase: 'wrong' })), new RegExp(`the passphrase for ${locked} does not decrypt it`));
  });
});
