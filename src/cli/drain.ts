/**
 * `lbdeploy drain INVENTORY HOST` / `undrain`: planned work on one LB node. drain lowers its VRRP priority
 * to the floor (no reload: keepalived reads the drain file on change), waits until another node holds
 * each VIP it held and a request through that VIP succeeds from the client; undrain puts the priority
 * back and waits until every VIP has exactly one holder again.
 */
import { LbdeployError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { consoleOutput as out } from '../report/console.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { holderOf } from '../connection/lock.js';
import { ConnectionPool } from '../connection/pool.js';
import { sh } from '../connection/shell.js';
import { probeHosts } from '../checks/probe.js';
import { ADDRESSES_FACT, holders } from '../checks/vip.js';
import { sleep } from '../util/sleep.js';
import { failure, requireInventory, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

export async function runDrain(positionals: string[], v: ValuesOf<typeof COMMANDS.drain.options>, undrain: boolean): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const [file, hostName] = positionals;
    if (!hostName) throw new UsageError('missing HOST');
    const waitS = Number(v.wait);
    if (!(waitS > 0 && waitS <= 3600)) throw new UsageError('--wait takes 1 to 3600 seconds');
    inv = await requireInventory([file!]);
    const mine = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).filter((d) => d.nodes.some((n) => n.name === hostName));
    if (mine.length === 0) throw new UsageError(`${hostName} is not a node of any VRRP cluster in ${inv.source.shownName}`);
    const d = mine.find((x) => x.drain);
    if (!d) throw new UsageError(`${hostName}'s deployment (${mine[0]!.kind}) has no drain`, { hint: 'drain applies to haproxy-keepalived clusters' });
    const host = d.nodes.find((n) => n.name === hostName)!;
    const pool = new ConnectionPool(inv, { holder: holderOf(`${undrain ? 'undrain' : 'drain'} ${hostName}`), waitS: 0 });
    const t0 = Date.now();
    try {
      const probe = () => probeHosts(pool, d.nodes, () => [ADDRESSES_FACT], 10_000);
      const before = await probe();
      const held = d.vips.filter((v) => holders(before, v.address).includes(hostName));
      const r = await (await pool.session(host)).run(undrain ? d.drain!.clear : d.drain!.set);
      if (r.code !== 0) throw new LbdeployError(`could not write the drain file: ${r.stderr.trim()}`, { where: hostName });
      const client = d.client ? await pool.session(d.client) : undefined;
      const urls = d.endToEnd.map((e) => ({ vip: e.target.vip.replace(/^\[|\]$/g, ''), url: `http://${e.target.vip}:${e.target.port}/`, http: e.mode === 'http' }));
      for (;;) {
        const now = await probe();
        const where = d.vips.map((v) => ({ vip: v.address, holders: holders(now, v.address) }));
        const moved = where.every((w) => w.holders.length === 1 && (undrain || !held.some((v) => v.address === w.vip) || w.holders[0] !== hostName));
        const serving = moved && client ? (await Promise.all(urls.filter((u) => u.http).map((u) => client.run(sh`curl -g -fsS -o /dev/null -m 2 ${u.url}`)))).every((x) => x.code === 0) : moved;
        if (moved && serving) {
          const s = ((Date.now() - t0) / 1000).toFixed(2);
          if (v.json) out.line(JSON.stringify({ host: hostName, drained: !undrain, seconds: Number(s), holders: Object.fromEntries(where.map((w) => [w.vip, w.holders[0]])) }));
          else out.line(`${hostName} ${undrain ? 'undrained' : 'drained'} in ${s} s: ${where.map((w) => `${w.vip} held by ${w.holders[0]}`).join(', ')}`);
          return EXIT.ok;
        }
        if (Date.now() - t0 > waitS * 1000) {
          throw new LbdeployError(`${undrain ? 'undrain' : 'drain'}: not settled within ${waitS} s: ${where.map((w) => `${w.vip} held by ${w.holders.join(', ') || 'no node'}`).join('; ')}${moved ? '; requests through the VIP fail' : ''}`, { where: hostName, hint: '--wait SECONDS waits longer; lbdeploy verify shows what does not serve' });
        }
        await sleep(200);
      }
    } finally {
      await pool.closeAll();
    }
  } catch (e) {
    return failure(e, inv);
  }
}
