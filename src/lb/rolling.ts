/** Rolling order for VIP holders: converge the backups first and the nodes holding a VIP last, so a VIP moves at most once. */
import type { FactResult } from '../operations/types.js';
import type { HostInfo, Play } from '../playbook/define.js';
import { ADDRESSES_FACT, holdsAddress } from '../checks/vip.js';

/** A play's `probe` and `batches`, given how to read a host's own VIPs from its vars (each cluster has its own). */
export function holderLast(vipsOf: (h: HostInfo) => string[]): Pick<Play, 'probe' | 'batches'> {
  return {
    probe: ADDRESSES_FACT,
    batches: (hosts: readonly HostInfo[], probes: ReadonlyMap<string, FactResult>) => {
      const holds = (h: HostInfo) => vipsOf(h).some((vip) => holdsAddress(probes.get(h.name)?.stdout ?? '', vip));
      return [hosts.filter((h) => !holds(h)), hosts.filter(holds)].filter((b) => b.length > 0);
    },
  };
}
