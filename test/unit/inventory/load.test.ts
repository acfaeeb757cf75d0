import { strict as assert } from 'node:assert';
import { parseInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/model.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { isSecret } from '../../../src/inventory/secret.js';
import { selectHosts, unmatchedTerms } from '../../../src/inventory/select.js';

const FILE = '/tmp/lbdeploy-test/inv.yaml';

async function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await parseInventory(FILE, text, { env });
  } catch (e) {
    assert.ok(e instanceof InventoryError, `not an InventoryError: ${String(e)}`);
    return e.issues.map((i) => `${i.where.replace(/^.*inv\.yaml/, 'inv.yaml')}: ${i.message}`);
  }
  return [];
}

describe('inventory: invalid input gives file:line:col', () => {
  const cases: { what: string; yaml: string; expect: RegExp }[] = [
    { what: 'a misspelt host key, with a suggestion',
      yaml: 'groups:\n  lb:\n    hosts:\n      lb1:\n        adress: 198.18.0.11\n',
      expect: /^inv\.yaml:5:9: unknown key 'adress' in 'groups\.lb\.hosts\.lb1' \(did you mean 'address'\?\)$/ },
    { what: 'a misspelt top-level key',
      yaml: 'grups:\n  lb: {}\n',
      expect: /^inv\.yaml:1:1: unknown key 'grups' in the document \(did you mean 'groups'\?\)$/ },
    { what: 'a misspelt connection key',
      yaml: 'connection:\n  usr: root\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:3: unknown key 'usr' in 'connection' \(did you mean 'user'\?\)$/ },
    { what: 'a tab used for indentation',
      yaml: 'groups:\n\tlb:\n',
      expect: /^inv\.yaml:2:1: tab used for indentation/ },
    { what: 'a duplicate key',
      yaml: 'groups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n      lb1: { address: 198.18.0.12 }\n',
      expect: /^inv\.yaml:5:7: duplicate key/ },
    { what: 'bad indentation',
      yaml: 'groups:\n  lb:\n    hosts:\n      lb1:\n        address: 198.18.0.11\n       port: 22\n',
      expect: /^inv\.yaml:6:\d+: invalid YAML/ },
    { what: 'a wrong type',
      yaml: 'connection:\n  port: "twenty-two"\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:9: 'connection\.port' must be an integer, not string "twenty-two"$/ },
    { what: 'an enum typo, with a suggestion',
      yaml: 'connection:\n  host_key_checking: strictt\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:22: 'connection\.host_key_checking' must be one of "strict", "accept-new", "off" \(did you mean 'strict'\?\)$/ },
    { what: 'a host without an address',
      yaml: 'groups:\n  lb:\n    hosts:\n      lb1:\n',
      expect: /^inv\.yaml:4:7: host 'lb1' has no address$/ },
    { what: 'two addresses for one host',
      yaml: 'groups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n  web:\n    hosts:\n      lb1: { address: 198.18.0.12 }\n',
      expect: /^inv\.yaml:7:\d+: host 'lb1' has address 198\.18\.0\.12 here but 198\.18\.0\.11 at/ },
    { what: 'a password that is not from the environment',
      yaml: 'connection:\n  password: !secret hunter2\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:21: an SSH password must come from an environment variable$/ },
    { what: 'an unset environment variable for a secret',
      yaml: 'vars:\n  stats_password: !secret env:LBD_NOT_SET\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:27: environment variable LBD_NOT_SET is not set/ },
    { what: 'a jump host that is not in the inventory',
      yaml: 'groups:\n  lb:\n    connection: { jump: lb9 }\n    hosts:\n      lb1: { address: 198.18.0.11 }\n      lb2: { address: 198.18.0.12 }\n',
      expect: /jump host 'lb9' is not an inventory host/ },
    { what: 'a group named like a host',
      yaml: 'groups:\n  lb1:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      expect: /^inv\.yaml:2:3: 'lb1' is both a group and a host name$/ },
    { what: 'neither groups nor hosts',
      yaml: 'vars: {}\n',
      expect: /needs the key 'groups'/ },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const errors = await errorsOf(c.yaml);
      assert.ok(errors.some((e) => c.expect.test(e)), `got:\n${errors.join('\n')}`);
    });
  }

  it('reports every problem at once, not only the first', async () => {
    const errors = await errorsOf('groups:\n  lb:\n    hosts:\n      lb1: { adress: 198.18.0.11 }\n      lb2: { address: 198.18.0.12, prot: 22 }\n');
    assert.equal(errors.length, 2, errors.join('\n'));
  });
});

describe('inventory: resolution', () => {
  const yaml = `playbook: baseline
vars: { a: inventory, b: inventory, c: inventory }
connection: { user: deploy, become: true, private_key: /dev/null }
groups:
  lb:
    vars: { a: lb, b: lb }
    connection: { port: 2222 }
    hosts:
      lb1: { address: 198.18.0.11, vars: { a: host } }
      lb2: { address: 198.18.0.12 }
  eu:
    vars: { b: eu }
    hosts:
      lb2:
      web1: { address: 198.18.0.21, connection: { user: root, become: false } }
`;
  let inv: Inventory;
  before(async () => {
    inv = await parseInventory(FILE, yaml, { env: {} });
  });
  const host = (n: string) => inv.hosts.find((h) => h.name === n)!;

  it('merges vars: inventory < groups in file order < host', () => {
    assert.deepEqual(host('lb1').vars, { a: 'host', b: 'lb', c: 'inventory' });
    assert.deepEqual(host('lb2').vars, { a: 'lb', b: 'eu', c: 'inventory' });
    assert.deepEqual(host('web1').vars, { a: 'inventory', b: 'eu', c: 'inventory' });
  });

  it('merges connection settings the same way over the defaults', () => {
    assert.equal(host('lb1').connection.user, 'deploy');
    assert.equal(host('lb1').connection.port, 2222);
    assert.equal(host('lb1').connection.become, true);
    assert.equal(host('web1').connection.user, 'root');
    assert.equal(host('web1').connection.become, false);
    assert.equal(host('web1').connection.port, 22);
    assert.equal(host('web1').connection.hostKeyChecking, 'accept-new');
  });

  it('keeps hosts in several groups, and the playbook list', () => {
    assert.deepEqual(host('lb2').groups, ['lb', 'eu']);
    assert.deepEqual(inv.playbooks, ['baseline']);
  });

  const patterns: [string, string[]][] = [
    ['all', ['lb1', 'lb2', 'web1']],
    ['lb', ['lb1', 'lb2']],
    ['lb,web1', ['lb1', 'lb2', 'web1']],
    ['lb:!lb2', ['lb1']],
    ['lb:&eu', ['lb2']],
    ['lb*', ['lb1', 'lb2']],
    ['198.18.0.21', ['web1']],
    ['!eu', ['lb1']],
  ];
  for (const [pattern, names] of patterns) {
    it(`selects '${pattern}'`, () => assert.deepEqual(selectHosts(inv, pattern).map((h) => h.name), names));
  }
  it('names pattern terms that match nothing', () => assert.deepEqual(unmatchedTerms(inv, 'lb,lb9,!web1'), ['lb9']));

  it('turns !secret env:NAME and { secret: env:NAME } into masked Secrets', async () => {
    const s = await parseInventory(FILE, 'vars:\n  p1: !secret env:LBD_P1\n  p2: { secret: env:LBD_P2 }\n  p3: !secret inline-value\ngroups:\n  lb:\n    hosts:\n      lb1: { address: 198.18.0.11 }\n',
      { env: { LBD_P1: 'canary-one', LBD_P2: 'canary-two' } });
    const vars = s.hosts[0]!.vars;
    for (const [k, v] of [['p1', 'canary-one'], ['p2', 'canary-two'], ['p3', 'inline-value']] as const) {
      assert.ok(isSecret(vars[k]));
      assert.equal((vars[k] as { reveal(): string }).reveal(), v);
      assert.equal(String(vars[k]), '********');
      assert.equal(JSON.stringify(vars[k]), '"********"');
    }
    const text = `password canary-one and canary-two, base64 ${Buffer.from('canary-two').toString('base64')}`;
    assert.equal(s.masker.mask(text), 'password ******** and ********, base64 ********');
  });
});

describe('inventory schema: a group member is null or a host, as one schema', () => {
  it('a misspelt key in a member gives one error, about that key (no "must be null", no anyOf), and a bare member is valid', async () => {
    const { validateInventory } = await import('../../../src/inventory/schema.js');
    const errors = await validateInventory({ groups: { lb: { hosts: { lb1: { adress: '198.18.0.11' }, lb2: null } } } });
    assert.deepEqual(errors.map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`), ['/groups/lb/hosts/lb1 additionalProperties {"additionalProperty":"adress"}']);
    assert.deepEqual(await validateInventory({ groups: { lb: { hosts: { lb1: null } } }, hosts: { lb1: { address: '198.18.0.11' } } }), []);
  });
});
