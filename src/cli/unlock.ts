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
import { failure, parse, UsageError } from './common.js';
import { loadInventory } from '../inventory/load.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runUnlock(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { help: { type: 'boolean', short: 'h' } }, USAGES.unlock);
    if (!parsed) return EXIT.ok;
    const [file, ...names] = parsed.positionals;
    if (!file) throw new UsageError('missing INVENTORY', { hint: USAGES.unlock.split('\n')[0] });
    if (names.length === 0) throw new UsageError('missing HOST (which host\'s lock to free)', { hint: USAGES.unlock.split('\n')[0] });
    inv = await loadInventory(file);
    const hosts = selectHosts(inv, names.join(','));
    // No lock of our own: this command exists to take one away.
    const pool = new ConnectionPool(inv);
    let worst: number = EXIT.ok;
    try {
      for (const host of hosts) {
        const r = await (await pool.session(host)).run(unlockScript());
        const lines = r.stdout.split('\n');
        const freed = lines.find((l) => l.startsWith('FREED'));
        const was = lines.find((l) => l.startsWith('WAS '))?.slice(4).trim();
        if (freed) {
          out.line(inv.masker.mask(`${host.name}: WARNING: freed the run lock held by ${was} (ended pid${freed.slice(5).trim().includes(' ') ? 's' : ''} ${freed.slice(5).trim()} on the host); if that run is still going, it now changes ${host.name} without a lock: stop it`));
        } else if (r.code === 0) {
          out.line(`${host.name}: no lbdeploy run holds the lock; nothing to do`);
        } else {
          out.error(`${host.name}: could not free the run lock (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
          worst = EXIT.failed;
        }
      }
    } finally {
      await pool.closeAll();
    }
    return worst;
  } catch (e) {
    return failure(e, inv);
  }
}
