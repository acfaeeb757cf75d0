/**
 * What `lbdeploy init KIND` writes, as text: a commented inventory whose first line points
 * editors at the schema, and a small playbook of the operator's own. Pure: the CLI writes them.
 */
import { isIP } from 'node:net';
import type { InitAnswers, InitHost, InitTemplate } from '../kinds/types.js';

/** Documentation addresses (RFC 5737): an example that can never reach a real host by accident. */
export const INIT_EXAMPLE: InitAnswers = {
  lb: [{ name: 'lb1', address: '192.0.2.11' }, { name: 'lb2', address: '192.0.2.12' }],
  backends: [{ name: 'node1', address: '192.0.2.21' }, { name: 'node2', address: '192.0.2.22' }, { name: 'node3', address: '192.0.2.23' }],
  vip: '192.0.2.100/24',
  interface: 'eth0',
  vrid: 51,
};

export interface InitConnection {
  user: string;
  /** Relative to the inventory's folder, as written. */
  privateKey?: string;
  knownHosts?: string;
}

export const OWN_PLAYBOOK = 'playbooks/site.ts';

/** `name=address,name=address` -> hosts; throws with the option's name on a bad entry. */
export function parseHostList(option: string, text: string): InitHost[] {
  const hosts = text.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)=(.+)$/.exec(entry);
    if (!m) throw new Error(`${option}: '${entry}' is not NAME=ADDRESS (e.g. lb1=192.0.2.11)`);
    if (isIP(m[2]!) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(m[2]!)) throw new Error(`${option}: '${m[2]}' is neither an IP address nor a host name`);
    return { name: m[1]!, address: m[2]! };
  });
  if (hosts.length === 0) throw new Error(`${option} names no host`);
  const names = hosts.map((h) => h.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`${option}: the host ${twice} is named twice`);
  return hosts;
}

export function checkAnswers(a: InitAnswers): void {
  const [addr, prefix] = a.vip.split('/');
  const family = isIP(addr ?? '');
  if (family === 0 || prefix === undefined || !/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 6 ? 128 : 32)) {
    throw new Error(`--vip: '${a.vip}' is not ADDRESS/PREFIX (e.g. 192.0.2.100/24)`);
  }
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(a.interface)) throw new Error(`--interface: '${a.interface}' is not an interface name`);
  if (!Number.isInteger(a.vrid) || a.vrid < 1 || a.vrid > 255) throw new Error(`--vrid: '${a.vrid}' is not a whole number from 1 to 255`);
  const all = [...a.lb, ...a.backends, ...(a.client ? [a.client] : [])].map((h) => h.name);
  const twice = all.find((n, i) => all.indexOf(n) !== i);
  if (twice) throw new Error(`the host ${twice} is given twice (a host is in one role here)`);
}

const hostLines = (hosts: readonly InitHost[]) => hosts.map((h) => `      ${h.name}: { address: ${JSON.stringify(h.address)} }`).join('\n');

/** `examples`: some addresses are INIT_EXAMPLE's, to be replaced. */
export function renderInitInventory(kind: string, t: InitTemplate, a: InitAnswers, conn: InitConnection, schemaRef: string, examples: boolean): string {
  const playbooks = [...t.playbooks, `./${OWN_PLAYBOOK}`];
  const example = examples ? '\n# The addresses below are documentation examples (192.0.2.0/24): put your hosts\' in.' : '';
  return `# yaml-language-server: $schema=${schemaRef}
#
# ${kind}: ${t.summary}.
# Written by \`lbdeploy init ${kind}\`.${example}
#   npx lbdeploy plan inventory.yaml     what would change, with diffs (reads, changes nothing)
#   npx lbdeploy up inventory.yaml       converge the hosts, then wait until the VIP serves
#   npx lbdeploy verify inventory.yaml   prove it: one VIP holder, backends up, requests through the VIP
#   npx lbdeploy audit inventory.yaml    the scheduled health audit (--serve for Prometheus)
# Secrets: \`!secret env:NAME\` reads NAME from the environment; no output ever shows a secret.
playbook: [${playbooks.join(', ')}]

vars:
${t.vars(a)}${a.client ? `  # verify and audit curl through the VIP from this host.\n  verify_from: ${a.client.name}\n` : ''}
connection:
  user: ${conn.user}
${conn.privateKey ? `  private_key: ${JSON.stringify(conn.privateKey)}` : '  # private_key: ~/.ssh/id_ed25519      (paths are relative to this file)'}
${conn.knownHosts ? `  known_hosts: ${JSON.stringify(conn.knownHosts)}\n  # Every host's key must be in known_hosts: a changed key stops the run.\n  host_key_checking: strict`
    : '  # Pin host keys: ssh-keyscan the hosts once, check the fingerprints, then\n  # known_hosts: known_hosts\n  # host_key_checking: strict'}

groups:
  ${t.groups.lb}:
    hosts:
${hostLines(a.lb)}
  ${t.groups.backends}:
    hosts:
${hostLines(a.backends)}
${a.client ? `  clients:\n    hosts:\n${hostLines([a.client])}\n` : ''}`;
}

/** The operator's own playbook: an example of the public API, run after the bundled ones. */
export function renderOwnPlaybook(t: InitTemplate): string {
  return `/**
 * A playbook of your own, run after the bundled ones (inventory.yaml lists it). Import only from
 * 'lbdeploy', its public API; \`npx lbdeploy plan inventory.yaml\` shows what it would change.
 */
import { definePlaybook, file } from 'lbdeploy';

export default definePlaybook({
  name: 'site',
  plays: [
    {
      name: 'site facts for the on-call',
      hosts: '${t.groups.lb}',
      steps: (host) => [
        file({
          path: '/etc/lbdeploy-site',
          content: \`\${host.name} is a load balancer managed by lbdeploy; its peers: \${host.inventory
            .filter((h) => h.groups.includes('${t.groups.lb}') && h.name !== host.name)
            .map((h) => h.name)
            .join(', ')}\\n\`,
          mode: '0644',
        }),
      ],
    },
  ],
});
`;
}
