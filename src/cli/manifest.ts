/** `lbdeploy manifest INVENTORY`: the Kubernetes objects an inventory asks for (seed 003's externalIPs Service), to pipe to kubectl. */
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { drKubernetesService, type DrSettings } from '../lb/dr.js';
import { playbookHostVars } from '../playbook/vars.js';
import { renderExternalIpService } from '../render/kube-service.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, parse, requireInventory } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runManifest(args: string[]): Promise<number> {
  let inv: Inventory | undefined;
  try {
    const parsed = parse(args, { help: { type: 'boolean', short: 'h' } }, USAGES.manifest);
    if (!parsed) return EXIT.ok;
    inv = await requireInventory(parsed.positionals, USAGES.manifest);
    const none = () => new InventoryError([{ where: inv!.source.shownName, message: 'this inventory asks for no Kubernetes objects', hint: 'for seed 003 add ipvs_dr.kubernetes.selector (the pods behind the VIP)' }]);
    if (!inv.hosts.some((h) => h.vars.ipvs_dr !== undefined)) throw none();
    const { hosts, targeted } = await playbookHostVars(inv, 'ipvs-dr');
    const first = hosts.find((h) => targeted.has(h.name) && h.vars.ipvs_dr !== undefined)?.vars as { ipvs_dr: DrSettings } | undefined;
    const service = first ? drKubernetesService(first.ipvs_dr) : undefined;
    if (!service) throw none();
    out.line(renderExternalIpService(service).trimEnd());
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
