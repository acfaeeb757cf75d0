/** Rolling order for VIP holders: converge the backups first and the node holding a VIP last, so a VIP moves at most once. */
import type { FactResult } from '../operations/types.js';
import type { HostInfo, Play } from '../playbook/define.js';
import { ADDRESSES_FACT, holdsAddress } from '../verify/ha-probe.js';

/** A play's `probe` and `batches`, given how to read the VIPs from a host's vars. */
export function holderLast(vipsOf: (h: HostInfo) => string[]): Pick<Play, 'probe' | 'batches'> {
  return {
    probe: ADDRESSES_FACT,
    batches: (hosts: readonly HostInfo[], probes: ReadonlyMap<string, FactResult>) => {
      const vips = hosts[0] ? vipsOf(hosts[0]) : [];
      const holds = (name: string) => vips.some((vip) => holdsAddress(probes.get(name)?.stdout ?? '', vip));
      return [hosts.filter((h) => !holds(h.name)), hosts.filter((h) => holds(h.name))].filter((b) => b.length > 0);
    },
  };
}
