/** `lbdeploy hosts INVENTORY`: resolved hosts, groups, connection and vars (secrets masked). */
import { consoleOutput as out, table } from '../report/console.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { checkLimit, failure, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';


export async function runHosts(positionals: string[], v: ValuesOf<typeof COMMANDS.hosts.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    inv = await requireInventory(positionals);
    checkLimit(inv, v.limit);
    const hosts = v.limit ? selectHosts(inv, v.limit) : inv.hosts;
    const view = hosts.map((h) => ({
      name: h.name, address: h.address, groups: h.groups,
      connection: {
        user: h.connection.user, port: h.connection.port, private_key: h.connection.privateKey,
        password: h.connection.password, known_hosts: h.connection.knownHosts, host_key_checking: h.connection.hostKeyChecking,
        jump: h.connection.jump, become: h.connection.become, become_user: h.connection.becomeUser,
      },
      vars: h.vars,
    }));
    if (v.json) {
      out.line(inv.masker.mask(JSON.stringify(view, null, 2)));
    } else {
      out.line(inv.masker.mask(table(['HOST', 'ADDRESS', 'GROUPS', 'USER', 'BECOME', 'JUMP', 'VARS'], view.map((h) => [
        h.name, `${h.address}:${h.connection.port}`, h.groups.join(','), h.connection.user, h.connection.become ? 'sudo' : '-',
        h.connection.jump ?? '-', JSON.stringify(h.vars),
      ]))));
    }
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
