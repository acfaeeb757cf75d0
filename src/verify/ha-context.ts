/** The HA model of an inventory, resolved as `up` would (schema defaults, checks), for verify and failover-test. */
import { ConnectionPool } from '../connection/pool.js';
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { lbNodes, type HaVars } from '../lb/ha.js';
import { playbookHostVars } from '../playbook/vars.js';
import type { HaContext } from './ha-verify.js';

/** Does the inventory describe a haproxy-keepalived deployment (`keepalived` vars)? */
export const hasHaModel = (inv: Inventory) => inv.hosts.some((h) => h.vars.keepalived !== undefined);

export async function loadHaContext(inv: Inventory, pool = new ConnectionPool(inv)): Promise<HaContext> {
  if (!hasHaModel(inv)) {
    throw new InventoryError([{ where: inv.source.shownName, message: 'this inventory has no HA model (no `keepalived` vars)', hint: 'verify and failover-test work on inventories for the haproxy-keepalived playbook' }]);
  }
  const { hosts, targeted } = await playbookHostVars(inv, 'haproxy-keepalived');
  const first = hosts.find((h) => targeted.has(h.name))!;
  const v = first.vars as unknown as HaVars;
  const nodeNames = new Set(lbNodes(hosts, v.lb_group).map((h) => h.name));
  return {
    vars: v,
    hosts,
    nodes: inv.hosts.filter((h) => nodeNames.has(h.name)),
    client: v.verify_from ? inv.hosts.find((h) => h.name === v.verify_from) : undefined,
    pool,
  };
}
