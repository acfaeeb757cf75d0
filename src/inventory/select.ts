/** Host patterns (`--limit`, a play's `hosts:`): names, groups, globs, `all`, `!exclusions`, `&intersections`. */
import { globToRegExp } from '../util/glob.js';
import type { Host, Inventory } from './model.js';


function matchOne(inv: Inventory, term: string): Set<string> {
  if (term === 'all' || term === '*') return new Set(inv.hosts.map((h) => h.name));
  const re = globToRegExp(term);
  const out = new Set<string>();
  for (const [g, members] of inv.groups) if (re.test(g)) members.forEach((m) => out.add(m));
  for (const h of inv.hosts) if (re.test(h.name) || h.address === term) out.add(h.name);
  return out;
}

/**
 * Resolve a pattern such as `lb,web1`, `lb:!lb3`, `lb:&eu` to hosts in inventory order.
 * Terms are separated by `,` or `:`; `!x` removes, `&x` intersects.
 */
export function selectHosts(inv: Inventory, pattern: string): Host[] {
  const terms = pattern.split(/[,:]/).map((t) => t.trim()).filter(Boolean);
  let chosen = new Set<string>();
  const positives = terms.filter((t) => !t.startsWith('!') && !t.startsWith('&'));
  if (positives.length === 0) chosen = matchOne(inv, 'all');
  for (const t of positives) matchOne(inv, t).forEach((n) => chosen.add(n));
  for (const t of terms.filter((x) => x.startsWith('&'))) {
    const keep = matchOne(inv, t.slice(1));
    chosen = new Set([...chosen].filter((n) => keep.has(n)));
  }
  for (const t of terms.filter((x) => x.startsWith('!'))) matchOne(inv, t.slice(1)).forEach((n) => chosen.delete(n));
  return inv.hosts.filter((h) => chosen.has(h.name));
}

/** Terms of a pattern that match nothing at all (likely typos). */
export function unmatchedTerms(inv: Inventory, pattern: string): string[] {
  return pattern.split(/[,:]/).map((t) => t.trim().replace(/^[!&]/, '')).filter((t) => t && matchOne(inv, t).size === 0);
}

/** The hosts a play runs on: its pattern, or, when the pattern is a function of a host's vars, each host its own pattern selects. */
export function playHosts(inv: Inventory, play: { hosts: string | ((vars: Readonly<Record<string, unknown>>) => string) }): Host[] {
  const hosts = play.hosts;
  if (typeof hosts === 'string') return selectHosts(inv, hosts);
  const byPattern = new Map<string, Set<string>>();
  return inv.hosts.filter((h) => {
    const pattern = hosts(h.vars);
    let chosen = byPattern.get(pattern);
    if (!chosen) byPattern.set(pattern, (chosen = new Set(selectHosts(inv, pattern).map((x) => x.name))));
    return chosen.has(h.name);
  });
}
