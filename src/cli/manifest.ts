/** `lbdeploy manifest INVENTORY`: the Kubernetes objects an inventory asks for (seed 003's externalIPs Service), to pipe to kubectl. */
import { InventoryError } from '../inventory/errors.js';
import type { Inventory } from '../inventory/model.js';
import { selectHosts } from '../inventory/select.js';
import { drKubernetesService, type DrSettings } from '../lb/dr.js';
import { loadPlaybook } from '../playbook/load.js';
import { resolvePlaybookVars } from '../playbook/vars.js';
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
    const pb = await loadPlaybook('ipvs-dr', inv.dir);
    const directors = selectHosts(inv, 'ipvs');
    const vars = await resolvePlaybookVars(pb, inv, directors.length > 0 ? directors : inv.hosts.filter((h) => h.vars.ipvs_dr !== undefined));
    const first = [...vars.values()][0] as { ipvs_dr: DrSettings } | undefined;
    const service = first ? drKubernetesService(first.ipvs_dr) : undefined;
    if (!service) throw none();
    out.line(renderExternalIpService(service).trimEnd());
    return EXIT.ok;
  } catch (e) {
    return failure(e, inv);
  }
}
