/** `lbdeploy facts INVENTORY`: what each host is, gathered in one round trip per host, in parallel. */
import { ConnectionPool } from '../connection/pool.js';
import { mapLimit } from '../util/limit.js';
import { batchFacts } from '../facts/batch.js';
import { HOST_FACTS, parseHostFacts, type HostFacts } from '../facts/host.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { consoleOutput as out, formatError, table } from '../report/console.js';
import { checkLimit, failure, parse, parseForks, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';


export async function runFactsCommand(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { limit: { type: 'string', short: 'l' }, forks: { type: 'string', short: 'f' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, USAGES.facts);
    if (!parsed) return EXIT.ok;
    inv = await requireInventory(parsed.positionals, USAGES.facts);
    checkLimit(inv, parsed.values.limit);
    const hosts = parsed.values.limit ? selectHosts(inv, parsed.values.limit) : inv.hosts;
    const forks = parseForks(parsed.values.forks);
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
    if (parsed.values.json) out.line(inv.masker.mask(JSON.stringify(results, null, 2)));
    else {
      out.line(inv.masker.mask(table(['HOST', 'OS', 'KERNEL', 'PKG', 'SYSTEMD', 'IP_VS', 'ADDRESSES'], results.map((r) => r.facts
        ? [r.host, r.facts.os, r.facts.kernel, r.facts.package_manager, r.facts.systemd, r.facts.ip_vs, r.facts.addresses.map((a) => `${a.interface}=${a.address}`).join(' ')]
        : [r.host, 'UNREACHABLE', r.error ?? '', '', '', '', '']))));
    }
    return results.some((r) => r.error) ? EXIT.unreachable : EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
