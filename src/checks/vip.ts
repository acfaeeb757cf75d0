/** Who holds a VIP: the addresses probe, its parser, and the one-holder check every VIP kind shares. */
import { sh } from '../connection/shell.js';
import type { FactRequest } from '../operations/types.js';
import { holdsAddress } from '../util/net.js';

export { holdsAddress };
import type { Check } from './check.js';
import { probeError, probeOut, type NodeProbe } from './probe.js';

export interface Vip {
  /** The VRRP instance (or service) name. */
  name: string;
  /** The address, without a prefix. */
  address: string;
}

/** Every address on the host: who holds a VIP. */
export const ADDRESSES_FACT: FactRequest = { key: 'addresses', command: sh`ip -o addr show` };

/** Which probed nodes hold a VIP. */
export function holders(probes: ReadonlyMap<string, NodeProbe>, vip: string): string[] {
  return [...probes].filter(([, p]) => !probeError(p) && holdsAddress(probeOut(p, ADDRESSES_FACT.key), vip)).map(([n]) => n);
}

/** Each VIP held by exactly one node: none, or split brain, is critical. */
export function vipHolderChecks(vips: readonly Vip[], probes: ReadonlyMap<string, NodeProbe>): Check[] {
  return vips.map((vip) => {
    const h = holders(probes, vip.address);
    return {
      check: 'vip holder', topic: 'vip-holder', vip: vip.address, target: `${vip.name} ${vip.address}`, severity: h.length === 1 ? 'ok' : 'critical', value: h.length,
      detail: h.length === 1 ? `held by ${h[0]}` : h.length === 0 ? 'no node holds the VIP' : `split brain: held by ${h.join(', ')}`,
    };
  });
}

/** A node that gave no probe results: critical, with why. */
export function unreachableCheck(node: string, error: string): Check {
  return { check: 'node', target: node, severity: 'critical', detail: `unreachable: ${error}` };
}
