/** What an inventory deployed, kind by kind: the inventory's playbooks, their kinds from the registry, their deployments. */
import type { Inventory } from '../inventory/model.js';
import { hostInfo, type Playbook } from '../playbook/define.js';
import { resolvePlaybookVars, targetsOf } from '../playbook/vars.js';
import { kindOf, loadPlaybook } from './registry.js';
import type { Deployment } from './types.js';

/** The inventory's playbooks (its `playbook:` list). */
export async function inventoryPlaybooks(inv: Inventory): Promise<Playbook[]> {
  const out: Playbook[] = [];
  for (const ref of inv.playbooks) out.push(await loadPlaybook(ref, inv.dir, inv.playbookWhere));
  return out;
}

/**
 * The deployments of the playbooks' kinds, with vars resolved as `up` resolves them (pass the
 * run's own to skip resolving again). A playbook without a kind adds none.
 */
export async function deploymentsOf(inv: Inventory, playbooks: readonly Playbook[], resolved?: ReadonlyMap<Playbook, ReadonlyMap<string, Record<string, unknown>>>): Promise<Deployment[]> {
  const out: Deployment[] = [];
  for (const pb of playbooks) {
    const kind = kindOf(pb);
    if (!kind) continue;
    const targeted = targetsOf(inv, pb);
    const vars = resolved?.get(pb) ?? await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => targeted.has(h.name)));
    const hosts = inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
    await kind.load?.();
    out.push(...kind.deployments({ inventory: inv, hosts, targeted }));
  }
  return out;
}
