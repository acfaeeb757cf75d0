/** Rolling order for VIP holders: converge the backups first and the node holding a VIP last, so a VIP moves at most once. */
import { sh } from '../connection/shell.js';
import type { FactRequest, FactResult } from '../operations/types.js';
import type { HostInfo, Play } from '../playbook/define.js';
import { holdsAddress } from '../verify/ha-probe.js';

export const ADDRESSES_PROBE: FactRequest = { key: 'lb:addresses', command: sh`ip -o addr show` };

/** A play's `probe` and `batches`, given how to read the VIPs from a host's vars. */
export function holderLast(vipsOf: (h: HostInfo) => string[]): Pick<Play, 'probe' | 'batches'> {
  return {
    probe: ADDRESSES_PROBE,
    batches: (hosts: readonly HostInfo[], probes: ReadonlyMap<string, FactResult>) => {
      const vips = hosts[0] ? vipsOf(hosts[0]) : [];
      const holds = (name: string) => vips.some((vip) => holdsAddress(probes.get(name)?.stdout ?? '', vip));
      return [hosts.filter((h) => !holds(h.name)), hosts.filter((h) => holds(h.name))].filter((b) => b.length > 0);
    },
  };
}
