/** Steps that depend on the host's OS family, and the notes an operator of a RHEL-family host needs. */
import { PLATFORM_FACT, parsePlatform, platformHints, type Family } from './os-family.js';
import { common, fact, type Operation, type StepOptions } from './types.js';

/**
 * `op` on hosts of one family only; on the others it is ok ("not a rhel host"). 'debian' also
 * takes hosts of no known family (Debian's names and paths, as before families were detected).
 * The platform is read with the step's own facts, in the same round trip.
 */
export function onFamily(family: Exclude<Family, 'unknown'>, op: Operation): Operation {
  return {
    ...op,
    facts: (ctx) => [PLATFORM_FACT, ...op.facts(ctx)],
    plan: (facts, ctx) => {
      const p = parsePlatform(fact(facts, PLATFORM_FACT.key).stdout);
      const matches = family === 'rhel' ? p.family === 'rhel' : p.family !== 'rhel';
      return matches ? op.plan(facts, ctx) : { kind: 'ok', reason: `not for ${p.id || 'this host'} (${family} family only)` };
    },
  };
}

export interface PlatformNotesOptions extends StepOptions {
  /** The host speaks VRRP (keepalived). */
  vrrp: boolean;
  /** TCP ports it serves (haproxy's frontends). */
  ports: readonly number[];
}

/** Changes nothing: says what the host is, and what SELinux and firewalld need from the operator. */
export function platformNotes(o: PlatformNotesOptions): Operation {
  return {
    ...common('platform', 'platform (OS family, SELinux, firewalld)', o),
    facts: () => [PLATFORM_FACT],
    plan: (facts) => {
      const p = parsePlatform(fact(facts, PLATFORM_FACT.key).stdout);
      const hints = platformHints(p, o);
      const reason = `${p.id || '?'} ${p.version} (${p.family} family; SELinux ${p.selinux}; firewalld ${p.firewalld ? 'active' : 'not active'})`;
      return hints.length > 0 ? { kind: 'ok', reason, hint: hints.join('\n  → ') } : { kind: 'ok', reason };
    },
  };
}
