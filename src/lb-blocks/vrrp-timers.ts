import type { KeepalivedGlobal } from '../render/keepalived.js';

/**
 * VRRP's timers as keepalived applies them (RFC 3768 for version 2, RFC 5798 for version 3): how long
 * a backup waits before it takes a VIP over. Pure arithmetic, for plan-time checks, the README and the drills.
 */

export type VrrpVersion = 2 | 3;

/** Version 3 counts adverts in centiseconds (0.01 to 40.95 s); version 2 in whole seconds (1 to 255). */
export const ADVERT_LIMITS: Record<VrrpVersion, { min: number; max: number; step: number }> = {
  2: { min: 1, max: 255, step: 1 },
  3: { min: 0.01, max: 40.95, step: 0.01 },
};

/**
 * Skew time of a backup of this priority: version 2 (RFC 3768) (256 - priority) / 256 seconds; version 3
 * (RFC 5798) the same fraction of the advert interval. The higher the priority, the sooner it acts.
 */
export function skewS(priority: number, advertS: number, version: VrrpVersion): number {
  const fraction = (256 - priority) / 256;
  return version === 3 ? fraction * advertS : fraction;
}

/** Master down interval: a backup takes over when no advert came for 3 intervals plus its skew (a silent holder: power-off, hang, VRRP blocked). */
export function masterDownS(priority: number, advertS: number, version: VrrpVersion): number {
  return 3 * advertS + skewS(priority, advertS, version);
}

/**
 * The time a backup takes over after the holder announces it leaves (a priority-0 advert: FAULT on a
 * tracked process, keepalived stopping): its skew time alone.
 */
export const handoverS = skewS;

/** Is this advert interval one keepalived can send in this VRRP version? Returns the problem, or undefined. */
export function advertProblem(advertS: number, version: VrrpVersion): string | undefined {
  const { min, max, step } = ADVERT_LIMITS[version];
  if (version === 2 && advertS > 0 && advertS < 1) return `advert_int ${advertS}: VRRP version 2 counts whole seconds (sub-second adverts need vrrp_version 3)`;
  if (advertS < min || advertS > max) return `advert_int ${advertS} is outside ${min}-${max} s for VRRP version ${version}`;
  const units = advertS / step;
  if (Math.abs(units - Math.round(units)) > 1e-9) {
    return version === 2 ? `advert_int ${advertS}: VRRP version 2 counts whole seconds (sub-second adverts need vrrp_version 3)` : `advert_int ${advertS}: VRRP version 3 counts hundredths of a second`;
  }
  return undefined;
}

/** Adverts per second on the segment for one VRRP instance: only its holder sends. */
export const advertsPerSecond = (advertS: number) => 1 / advertS;

/** Gratuitous ARP / unsolicited NA after a takeover, as the kinds' vars set them. */
export interface GarpVars { master_delay: number; master_repeat: number; master_refresh: number; lower_prio_repeat: number; interval?: number; gna_interval?: number }

/** The vars schemas shared by the kinds that render keepalived.conf: version, advert interval, GARP/NA. */
export const VRRP_VARS_SCHEMA = {
  advert_int: { type: 'number', minimum: 0.01, maximum: 255, default: 1, description: 'seconds between VRRP adverts: whole seconds 1-255 with VRRP version 2; 0.01-40.95 with version 3 (fast mode: vrrp_version 3, advert_int 0.1)' },
  vrrp_version: { enum: [2, 3], default: 2, description: 'VRRP version for IPv4 instances (IPv6 is always 3). Version 3 allows sub-second adverts and has no authentication' },
  garp: {
    type: 'object', additionalProperties: false, default: {},
    description: 'gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) after a takeover',
    properties: {
      master_delay: { type: 'number', minimum: 0, maximum: 255, default: 1, description: 'seconds after takeover before the second burst (0: none)' },
      master_repeat: { type: 'integer', minimum: 1, maximum: 255, default: 3, description: 'packets per burst' },
      master_refresh: { type: 'number', minimum: 0, maximum: 3600, default: 60, description: 'seconds between refreshes while holding the VIP (0: none)' },
      lower_prio_repeat: { type: 'integer', minimum: 0, maximum: 255, default: 2, description: 'packets sent again when a lower-priority master is seen (a split brain ending)' },
      interval: { type: 'number', minimum: 0, maximum: 1000, description: 'seconds between the gratuitous ARPs of a burst (vrrp_garp_interval; keepalived\'s default 0)' },
      gna_interval: { type: 'number', minimum: 0, maximum: 1000, description: 'seconds between the unsolicited NAs of a burst (vrrp_gna_interval)' },
    },
  },
} as const;

/**
 * global_defs for fast takeovers: the VRRP version, and GARP/NA so clients and switches learn the move at
 * once: a burst on takeover, a second after master_delay (a neighbour that ignored the first inside its
 * 1 s ARP locktime takes this one), a periodic refresh, and a re-announce when two masters met.
 */
export function vrrpGlobals(version: VrrpVersion, g: GarpVars): Partial<KeepalivedGlobal> {
  return {
    vrrpVersion: version === 3 ? 3 : undefined,
    vrrpGarpMasterDelay: g.master_delay, vrrpGarpMasterRepeat: g.master_repeat, vrrpGarpMasterRefresh: g.master_refresh,
    vrrpGarpLowerPrioRepeat: g.lower_prio_repeat, vrrpHigherPrioSendAdvert: true,
    vrrpGarpInterval: g.interval, vrrpGnaInterval: g.gna_interval,
  };
}
