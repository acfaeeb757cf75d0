/** Rolling order for VIP holders: converge the backups first and the nodes holding a VIP last, so a VIP moves at most once. */
import { sh, type ShellCommand } from '../connection/shell.js';
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

/**
 * A play's `drain` for keepalived clusters with a drain file (a track_file, as haproxy-keepalived renders
 * one): 1 lowers the node's priority to the floor without a reload, 0 puts it back; the VIPs have moved
 * once the node holds none of them.
 */
export function drainWith(file: string, vipsOf: (h: HostInfo) => string[]): NonNullable<Play['drain']> {
  return (h) => {
    const vips = vipsOf(h);
    return {
      ...drainCommands(file),
      moved: sh`! ip -o addr show | grep -q -F ${vips.flatMap((v) => ['-e', ` ${v}/`])}`,
      holds: (probe) => vips.some((vip) => holdsAddress(probe.stdout, vip)),
    };
  };
}

/** Writing a drain file: 1 drains the node, 0 puts its priority back (drain, the drills, the executor). */
export function drainCommands(file: string): { set: ShellCommand; clear: ShellCommand } {
  return { set: sh`echo 1 > ${file}`, clear: sh`echo 0 > ${file}` };
}
