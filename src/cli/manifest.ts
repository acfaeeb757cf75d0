/** `lbdeploy manifest INVENTORY`: the Kubernetes objects the inventory's deployments ask for, to pipe to kubectl. */
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, parse, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runManifest(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { help: { type: 'boolean', short: 'h' } }, USAGES.manifest);
    if (!parsed) return EXIT.ok;
    // Nothing connects: the inventory's key need not exist (a fresh clone, before `lab up`).
    inv = await requireInventory(parsed.positionals, USAGES.manifest, { offline: true });
    const manifests = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).flatMap((d) => d.manifests ?? []);
    if (manifests.length === 0) {
      throw new InventoryError([{ where: inv.source.shownName, message: 'this inventory asks for no Kubernetes objects', hint: 'for seed 003 add ipvs_dr.kubernetes.selector (the pods behind the VIP)' }]);
    }
    out.line(manifests.map((m) => m.trimEnd()).join('\n---\n'));
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
