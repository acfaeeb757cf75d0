/** `lbdeploy facts INVENTORY`: what each host is, gathered in one round trip per host, in parallel. */
import { ConnectionPool } from '../connection/pool.js';
import { mapLimit } from '../util/limit.js';
import { batchFacts } from '../facts/batch.js';
import { HOST_FACTS, parseHostFacts, type HostFacts } from '../facts/host.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { consoleOutput as out, formatError, table } from '../report/console.js';
import { checkLimit, failure, parseForks, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';


export async function runFactsCommand(positionals: string[], v: ValuesOf<typeof COMMANDS.facts.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const forks = parseForks(v.forks);
    inv = await requireInventory(positionals);
    checkLimit(inv, v.limit);
    const hosts = v.limit ? selectHosts(inv, v.limit) : inv.hosts;
    const pool = new ConnectionPool(inv, undefined, forks);
    const results = await mapLimit(hosts, forks, async (h) => {
      try {
        const s = await pool.session(h);
        const batch = batchFacts(HOST_FACTS);
        return { host: h.name, facts: parseHostFacts(batch.parse((await s.run(batch.script)).stdout)) as HostFacts | undefined, error: undefined as string | undefined };
      } catch (e) {
        return { host: h.name, facts: undefined, error: formatError(e).replace(/^error: /, '') };
      }
    });
    await pool.closeAll();
    if (v.json) out.line(inv.masker.mask(JSON.stringify(results, null, 2)));
    else {
      out.line(inv.masker.mask(table(['HOST', 'OS', 'FAMILY', 'KERNEL', 'PKG', 'SYSTEMD', 'IP_VS', 'ADDRESSES'], results.map((r) => r.facts
        ? [r.host, r.facts.os, r.facts.family, r.facts.kernel, r.facts.package_manager, r.facts.systemd, r.facts.ip_vs, r.facts.addresses.map((a) => `${a.interface}=${a.address}`).join(' ')]
        : [r.host, 'UNREACHABLE', r.error ?? '', '', '', '', '', '']))));
    }
    return results.some((r) => r.error) ? EXIT.unreachable : EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
