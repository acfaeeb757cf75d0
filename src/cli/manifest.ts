/** `lbdeploy manifest INVENTORY`: the Kubernetes objects the inventory's deployments ask for, to pipe to kubectl. */
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { deploymentsOf, inventoryPlaybooks } from '../kinds/deployments.js';
import { parseAllDocuments } from 'yaml';
import { consoleOutput as out } from '../report/console.js';
import { failure, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

export async function runManifest(positionals: string[], v: ValuesOf<typeof COMMANDS.manifest.options>): Promise<number> {
  let inv: Inventory | undefined;
  try {
    // Nothing connects: the inventory's key need not exist (a fresh clone, before `lab up`).
    inv = await requireInventory(positionals, { offline: true });
    const manifests = (await deploymentsOf(inv, await inventoryPlaybooks(inv))).flatMap((d) => d.manifests ?? []);
    if (manifests.length === 0) {
      throw new InventoryError([{ where: inv.source.shownName, message: 'this inventory asks for no Kubernetes objects', hint: 'for seed 003 add ipvs_dr.kubernetes.selector (the pods behind the VIP)' }]);
    }
    out.line(v.json ? manifestJson(manifests) : manifests.map((m) => m.trimEnd()).join('\n---\n'));
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}

/** The objects as JSON for kubectl: one object, or a List of them. */
export function manifestJson(manifests: readonly string[]): string {
  const items = manifests.flatMap((m) => parseAllDocuments(m).map((d) => d.toJS() as unknown)).filter((o) => o !== null);
  return JSON.stringify(items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2);
}
