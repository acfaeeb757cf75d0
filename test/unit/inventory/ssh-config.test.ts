/**
 * The operator's ssh config under the inventory: what ~/.ssh/config (or `ssh_config: FILE`) adds
 * where the inventory says nothing, and the inventory winning where it does. A temporary HOME
 * holds the config and the key files (IdentityFile entries that do not exist are not offered).
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';

const CONFIG = `
Host bastion
  HostName 198.18.0.30
  User jumper
  IdentityFile ~/.ssh/bastion_key

Host lb-*
  User ops
  Port 2222
  IdentityFile ~/.ssh/ops_key
  IdentityFile ~/.ssh/missing_key
  ProxyJump bastion

Host alias1
  HostName 198.18.0.11

Host twohops
  ProxyJump bastion,other

Host *
  StrictHostKeyChecking yes
  UserKnownHostsFile ~/.ssh/known_hosts2
`;

describe('inventory: the operator\'s ssh config, under the inventory\'s own settings', () => {
  const home = mkdtempSync(join(tmpdir(), 'lbdeploy-sshcfg-'));
  let savedHome: string | undefined;
  before(() => {
    savedHome = process.env.HOME;
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'config'), CONFIG);
    for (const k of ['bastion_key', 'ops_key', 'id_ed25519', 'id_rsa', 'mine']) writeFileSync(join(home, '.ssh', k), 'not a real key');
    process.env.HOME = home;
  });
  after(() => {
    process.env.HOME = savedHome;
    rmSync(home, { recursive: true, force: true });
  });

  const load = (hosts: string, top = '') => parseInventory(join(home, 'inv.yaml'), `${top}groups:\n  lb:\n    hosts:\n${hosts}\n`, { env: {} });
  const ssh = (f: string) => join(home, '.ssh', f);

  const CASES: [title: string, host: string, top: string, want: Record<string, unknown>][] = [
    ['a Host pattern matching the inventory name: user, port, identities that exist, ProxyJump resolved through the config, host key settings from Host *',
      '      lb-1: { address: 198.18.0.21 }', '',
      { hostName: undefined, user: 'ops', port: 2222, privateKey: undefined, identities: [ssh('ops_key')], jump: 'jumper@198.18.0.30:22', jumpIdentity: ssh('bastion_key'), hostKeyChecking: 'strict', knownHosts: ssh('known_hosts2') }],
    ['an alias as the address: dialled at its HostName; no IdentityFile: OpenSSH\'s default identities',
      '      web: { address: alias1 }', '',
      { hostName: '198.18.0.11', user: 'root', port: 22, identities: [ssh('id_ed25519'), ssh('id_rsa')], jump: undefined }],
    ['the inventory wins: its user, port, key, jump and host key checking over the config\'s',
      '      lb-2: { address: 198.18.0.22, connection: { user: admin, port: 22, private_key: ~/.ssh/mine, jump: lb-3, host_key_checking: off } }\n      lb-3: { address: 198.18.0.23 }', '',
      { user: 'admin', port: 22, privateKey: ssh('mine'), identities: [], jump: 'lb-3', jumpIdentity: undefined, hostKeyChecking: 'off', knownHosts: ssh('known_hosts2') }],
    ['ssh_config: none reads nothing: lbdeploy\'s defaults, OpenSSH\'s default identities',
      '      lb-1: { address: 198.18.0.21 }', 'connection: { ssh_config: none }\n',
      { hostName: undefined, user: 'root', port: 22, identities: [ssh('id_ed25519'), ssh('id_rsa')], jump: undefined, hostKeyChecking: 'accept-new', sshConfig: undefined }],
  ];
  for (const [title, host, top, want] of CASES) {
    it(title, async () => {
      const inv = await load(host, top);
      const c = inv.hosts[0]!.connection as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(c[k], v, `${k}: ${JSON.stringify(c[k])}`);
    });
  }

  it('another file through ssh_config, relative to the inventory', async () => {
    writeFileSync(join(home, 'other_config'), 'Host *\n  User fromfile\n');
    const inv = await load('      lb-1: { address: 198.18.0.21 }', 'connection: { ssh_config: other_config }\n');
    assert.equal(inv.hosts[0]!.connection.user, 'fromfile');
    assert.equal(inv.hosts[0]!.connection.sshConfig, join(home, 'other_config'));
  });

  const BAD: [title: string, host: string, top: string, message: RegExp, where: RegExp][] = [
    ['a ProxyJump of two hops', '      twohops: { address: twohops }', '', /ProxyJump bastion,other has 2 hops: lbdeploy follows one \(for twohops\)/, /\.ssh\/config$/],
    ['an ssh_config that does not exist', '      lb-1: { address: 198.18.0.21 }', 'connection: { ssh_config: nowhere }\n', /ssh config .*nowhere does not exist/, /inv\.yaml:1:\d+$/],
    ['a passphrase written in the file', '      lb-1: { address: 198.18.0.21, connection: { private_key_passphrase: { secret: inline } } }', '', /a key passphrase must come from an environment variable/, /inv\.yaml:\d+:\d+$/],
  ];
  for (const [title, host, top, message, where] of BAD) {
    it(`refused before connecting: ${title}`, async () => {
      await assert.rejects(load(host, top), (e: unknown) => {
        assert.ok(e instanceof InventoryError, String(e));
        assert.ok(e.issues.some((i) => message.test(i.message) && where.test(i.where)), JSON.stringify(e.issues));
        return true;
      });
    });
  }
});
