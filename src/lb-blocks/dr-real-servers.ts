/** Direct routing's real-server side (seeds 002 with lb_kind DR, and 003): the VIPs on lo, ARP quiet. */
import { persistentAddress } from '../operations/ipvs.js';
import { sysctl } from '../operations/kernel.js';
import type { Operation } from '../operations/types.js';

/**
 * A real server answers for the VIPs (on lo) but never ARPs for them: it answers ARP only for
 * addresses on the asking interface and announces its own address, so only the director draws
 * the VIP's traffic. The VIPs come back at boot from a unit each.
 */
export function drRealServerSteps(vips: readonly string[]): Operation[] {
  return [
    sysctl({ file: '/etc/sysctl.d/60-lbdeploy-dr.conf', values: {
      'net.ipv4.conf.all.arp_ignore': 1, 'net.ipv4.conf.all.arp_announce': 2,
      'net.ipv4.conf.lo.arp_ignore': 1, 'net.ipv4.conf.lo.arp_announce': 2,
    }, tags: ['real-servers'] }),
    // On lo now and after every reboot (a unit per VIP, as the director's VIP has).
    ...vips.flatMap((v) => {
      const a = v.split('/')[0]!;
      return persistentAddress({ address: `${a}/${a.includes(':') ? 128 : 32}`, device: 'lo', tags: ['real-servers'] });
    }),
  ];
}
