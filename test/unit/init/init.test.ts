/** `lbdeploy init` and `lbdeploy schema` (pure): what init writes loads and passes every playbook's vars schema; the editor schema knows the kinds' vars. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { INIT_EXAMPLE, checkAnswers, parseHostList, renderInitInventory, renderOwnPlaybook } from '../../../src/init/render.js';
import { editorSchema } from '../../../src/kinds/editor-schema.js';
import { schemaRefFor } from '../../../src/cli/init.js';
import { parseInventory } from '../../../src/inventory/load.js';
import { KINDS, kindPlaybook } from '../../../src/kinds/registry.js';
import type { InitAnswers } from '../../../src/kinds/types.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { parseYaml } from '../../../src/yaml.js';

const Ajv = AjvModule.default;
const withInit = KINDS.filter((k) => k.init);
const LAB: InitAnswers = {
  lb: [{ name: 'lb1', address: '198.18.0.11' }, { name: 'lb2', address: '198.18.0.12' }],
  backends: [{ name: 'web1', address: '198.18.0.21' }],
  vip: '198.18.0.150/24', interface: 'ens3', vrid: 200, client: { name: 'client', address: '198.18.0.30' },
};

describe('init: a starting inventory per kind', () => {
  it('covers the kinds operators start with', () => {
    assert.deepEqual(withInit.map((k) => k.name).sort(), ['haproxy-keepalived', 'ipvs-dr']);
  });

  for (const kind of withInit) {
    for (const [label, answers, examples] of [['example addresses', INIT_EXAMPLE, true], ['given answers', LAB, false]] as const) {
      it(`${kind.name} with ${label}: loads, and every bundled playbook it names accepts its vars`, async () => {
        const text = renderInitInventory(kind.name, kind.init!, answers, { user: 'root' }, 'schema.json', examples);
        assert.match(text.split('\n')[0]!, /^# yaml-language-server: \$schema=schema\.json$/);
        assert.equal(text.includes('192.0.2.0/24'), examples, 'says when the addresses are examples');
        const inv = await parseInventory('site/inventory.yaml', text, { env: {} });
        assert.deepEqual(inv.playbooks, [...kind.init!.playbooks, './playbooks/site.ts']);
        for (const h of answers.lb) assert.ok(inv.hosts.find((x) => x.name === h.name)?.groups.includes(kind.init!.groups.lb));
        for (const name of kind.init!.playbooks) {
          const vars = await resolvePlaybookVars(kindPlaybook(name), inv, inv.hosts);
          assert.ok(vars.size > 0, `${name} targets the hosts`);
        }
        // A deployment the kind recognises, with the VIP as given.
        const { deploymentsOf } = await import('../../../src/kinds/deployments.js');
        const deployments = await deploymentsOf(inv, kind.init!.playbooks.map(kindPlaybook));
        const vip = answers.vip.split('/')[0]!;
        assert.ok(deployments.some((d) => d.kind === kind.name && d.vips.some((v) => v.address === vip)), `a ${kind.name} deployment with ${vip}`);
        if (answers.client) assert.ok(deployments.every((d) => d.kind !== kind.name || d.client?.name === 'client'));
      });
    }
    it(`${kind.name}: the own playbook imports only the public API and targets the LB group`, () => {
      const ts = renderOwnPlaybook(kind.init!);
      assert.match(ts, /^import \{ definePlaybook, file \} from 'lbdeploy';$/m);
      assert.match(ts, new RegExp(`hosts: '${kind.init!.groups.lb}'`));
    });
  }

  const bad: [string, () => unknown, RegExp][] = [
    ['an entry without =', () => parseHostList('--lb', 'lb1'), /--lb: 'lb1' is not NAME=ADDRESS/],
    ['a bad address', () => parseHostList('--lb', 'lb1=1.2.3.4.5/x'), /neither an IP address nor a host name/],
    ['a name twice', () => parseHostList('--backends', 'a=198.18.0.1,a=198.18.0.2'), /the host a is named twice/],
    ['nothing', () => parseHostList('--lb', ' , '), /--lb names no host/],
    ['a VIP without prefix', () => checkAnswers({ ...INIT_EXAMPLE, vip: '192.0.2.1' }), /--vip/],
    ['an IPv4 prefix of 33', () => checkAnswers({ ...INIT_EXAMPLE, vip: '192.0.2.1/33' }), /--vip/],
    ['VRID 0', () => checkAnswers({ ...INIT_EXAMPLE, vrid: 0 }), /--vrid/],
    ['a host in two roles', () => checkAnswers({ ...INIT_EXAMPLE, backends: INIT_EXAMPLE.lb }), /the host lb1 is given twice/],
  ];
  for (const [what, fn, message] of bad) it(`refuses ${what}`, () => assert.throws(fn, message));
  it('accepts names, IPv4, IPv6 and DNS names', () => {
    assert.deepEqual(parseHostList('--lb', 'lb1=198.18.0.11, lb-2=2001:2::12,lb.3=lb3.example'), [
      { name: 'lb1', address: '198.18.0.11' }, { name: 'lb-2', address: '2001:2::12' }, { name: 'lb.3', address: 'lb3.example' }]);
  });
});

describe('schema: the inventory schema editors use', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(editorSchema());
  const inventories = ['inventory/lab.yaml', 'inventory/lab-software-lb.yaml', 'inventory/lab-ipvs-dr.yaml', 'inventory/kube-keepalived-vip.yaml', 'inventory/fleet.yaml'];
  // `!secret` values are strings to an editor (yaml-language-server's customTags).
  const asEditorSees = (file: string) => parseYaml(readFileSync(file, 'utf8').replace(/!secret (\S+)/g, '"$1"'));
  for (const file of inventories) it(`accepts ${file}`, () => assert.ok(validate(asEditorSees(file)), JSON.stringify(validate.errors)));
  const typos: [string, (text: string) => string, string][] = [
    ['a misspelt keepalived key', (t) => t.replace('interface: eth0', 'interfce: eth0'), 'interfce'],
    ['a VRID out of range', (t) => t.replace('virtual_router_id: 51', 'virtual_router_id: 300'), 'virtual_router_id'],
    ['a misspelt haproxy service key', (t) => t.replace('backend_port: 8081', 'backend_prt: 8081'), 'backend_prt'],
  ];
  for (const [what, edit, where] of typos) {
    it(`flags ${what} in a kind's vars`, () => {
      const data = parseYaml(edit(readFileSync('inventory/lab.yaml', 'utf8')).replace(/!secret (\S+)/g, '"$1"'));
      assert.equal(validate(data), false);
      assert.ok(JSON.stringify(validate.errors).includes(where), JSON.stringify(validate.errors));
    });
  }
});

describe('init: the schema modeline points at a file that lasts', () => {
  const CASES: [title: string, dir: string, root: string, installed: string[], want: { ref: string; copyFrom?: string }][] = [
    ['installed in the project (node_modules above the folder): relative, so it follows upgrades',
      '/work/ops/lb', '/work/ops/node_modules/lbdeploy', ['/work/ops/node_modules/lbdeploy/dist/inventory.schema.json'],
      { ref: '../node_modules/lbdeploy/dist/inventory.schema.json' }],
    ['run through npx without an install: a copy beside the inventory, never a path into npx\'s cache',
      '/work/ops/lb', '/root/.npm/_npx/3f2a/node_modules/lbdeploy', [],
      { ref: './lbdeploy-inventory.schema.json', copyFrom: '/root/.npm/_npx/3f2a/node_modules/lbdeploy/dist/inventory.schema.json' }],
    ['through npx, but installed in the project too: the project\'s',
      '/work/ops', '/root/.npm/_npx/3f2a/node_modules/lbdeploy', ['/work/ops/node_modules/lbdeploy/dist/inventory.schema.json'],
      { ref: 'node_modules/lbdeploy/dist/inventory.schema.json' }],
    ['a checkout or a global install: its absolute path', '/work/ops', '/opt/lbdeploy', [], { ref: '/opt/lbdeploy/dist/inventory.schema.json' }],
  ];
  for (const [title, dir, root, installed, want] of CASES) {
    it(title, () => assert.deepEqual(schemaRefFor(dir, root, (p) => installed.includes(p)), want));
  }
});
