/**
 * `lbdeploy unlock INVENTORY HOST...`: free a run lock that outlived its run (a holder whose
 * controller is gone while the host kept its connection, e.g. after a network cut). The holder's
 * process on the host is ended, which releases the flock. Loud by design: if that run is in fact
 * still going, it goes on changing the host without a lock.
 */
import { unlockScript } from '../connection/lock.js';
import { ConnectionPool } from '../connection/pool.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, UsageError } from './common.js';
import { loadInventory } from '../inventory/load.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

export async function runUnlock(positionals: string[], v: ValuesOf<typeof COMMANDS.unlock.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const [file, ...names] = positionals;
    if (!file || names.length === 0) throw new UsageError('missing INVENTORY or HOST (which host\'s lock to free)');
    inv = await loadInventory(file);
    const hosts = selectHosts(inv, names.join(','));
    // No lock of our own: this command exists to take one away.
    const pool = new ConnectionPool(inv);
    let worst: number = EXIT.ok;
    const results: { host: string; freed: boolean; was?: string; pids?: string; error?: string }[] = [];
    const say = (line: string, r: (typeof results)[number]) => {
      results.push(r);
      if (!v.json) (r.error ? out.error : out.line)(inv!.masker.mask(line));
    };
    try {
      for (const host of hosts) {
        const r = await (await pool.session(host)).run(unlockScript());
        const lines = r.stdout.split('\n');
        const freed = lines.find((l) => l.startsWith('FREED'));
        const was = lines.find((l) => l.startsWith('WAS '))?.slice(4).trim();
        const pids = freed?.slice(5).trim();
        if (freed) {
          say(`${host.name}: WARNING: freed the run lock held by ${was} (ended pid${pids!.includes(' ') ? 's' : ''} ${pids} on the host); if that run is still going, it now changes ${host.name} without a lock: stop it`, { host: host.name, freed: true, was, pids });
        } else if (r.code === 0) {
          say(`${host.name}: no lbdeploy run holds the lock; nothing to do`, { host: host.name, freed: false });
        } else {
          const error = `could not free the run lock (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`;
          say(`${host.name}: ${error}`, { host: host.name, freed: false, error });
          worst = EXIT.failed;
        }
      }
    } finally {
      await pool.closeAll();
    }
    if (v.json) out.line(inv.masker.mask(JSON.stringify({ ok: worst === EXIT.ok, hosts: results }, null, 2)));
    return worst;
  } catch (e) {
    return failure(e, inv);
  }
}
