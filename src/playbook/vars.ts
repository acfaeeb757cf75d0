/** Validate each host's vars against a playbook's schema (defaults applied), errors at file:line:col. */
import { InventoryError, type InventoryIssue } from '../inventory/errors.js';
import type { Host, Inventory } from '../inventory/model.js';
import { issuesFromAjv } from '../inventory/schema.js';
import { validatorFor } from '../inventory/validators.js';
import { isSecret, type Secret } from '../inventory/secret.js';
import type { PathSegment } from '../inventory/source.js';
import { hostInfo, type HostInfo, type Playbook } from './define.js';
import { playHosts } from '../inventory/select.js';

/**
 * A copy of the vars in which Secrets are their values (so string rules apply), plus where the
 * Secrets were, to put them back after validation.
 */
function unwrap(v: unknown, path: PathSegment[], secrets: [PathSegment[], Secret][]): unknown {
  if (isSecret(v)) {
    secrets.push([path, v]);
    return v.reveal();
  }
  if (Array.isArray(v)) return v.map((x, i) => unwrap(x, [...path, i], secrets));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrap(x, [...path, k], secrets)]));
  return v;
}

function rewrap(root: Record<string, unknown>, secrets: [PathSegment[], Secret][]): void {
  for (const [path, s] of secrets) {
    let node: Record<string | number, unknown> = root;
    for (const seg of path.slice(0, -1)) node = node[seg] as Record<string | number, unknown>;
    node[path[path.length - 1]!] = s;
  }
}

/** host name -> vars with defaults, for the hosts the playbook targets; then the playbook's own checks. Throws InventoryError listing every problem. */
export async function resolvePlaybookVars(pb: Playbook, inv: Inventory, hosts: readonly Host[]): Promise<Map<string, Record<string, unknown>>> {
  await pb.load?.();
  const out = new Map<string, Record<string, unknown>>();
  const validate = pb.vars ? await validatorFor(pb.vars) : undefined;
  const issues: InventoryIssue[] = [];
  for (const h of hosts) {
    const secrets: [PathSegment[], Secret][] = [];
    const vars = unwrap(h.vars, [], secrets) as Record<string, unknown>;
    if (validate && !validate(vars)) {
      const locator = {
        // A var's path inside the YAML is where its winning value was written.
        locate: (path: readonly PathSegment[], key?: boolean) => {
          const [top, ...rest] = path;
          const origin = top !== undefined ? h.varPaths[String(top)] : undefined;
          if (origin) return inv.source.locate([...origin, ...rest], key);
          return h.where;
        },
      };
      for (const i of issuesFromAjv(validate.errors ?? [], locator, 'the vars')) {
        issues.push({ where: i.where, message: inv.masker.mask(`host ${h.name}, playbook ${pb.name}: ${i.message}`), hint: i.hint });
      }
      continue;
    }
    rewrap(vars, secrets);
    out.set(h.name, vars);
  }
  if (issues.length === 0 && pb.check) {
    const infos = inv.hosts.map((h) => ({ ...hostInfo(h), vars: out.get(h.name) ?? h.vars }));
    for (const i of pb.check(infos)) {
      const h = inv.hosts.find((x) => x.name === i.host) ?? hosts[0];
      const [top, ...rest] = i.path;
      const origin = h && top !== undefined ? h.varPaths[String(top)] : undefined;
      const where = origin ? inv.source.locate([...origin, ...rest]) : h?.where ?? inv.source.shownName;
      issues.push({ where, message: inv.masker.mask(`playbook ${pb.name}: ${i.message}`), hint: i.hint });
    }
  }
  if (issues.length > 0) throw new InventoryError(dedupe(issues));
  return out;
}

function dedupe(issues: InventoryIssue[]): InventoryIssue[] {
  // The same group var fails for every member: say it once, naming the first host.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = i.where + i.message.replace(/^host \S+, /, '');
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/**
 * The vars `up` would plan with, for a playbook: every host one of its plays
 * targets is validated (checks look across nodes); the rest keep their inventory vars.
 */
export async function playbookHostVars(inv: Inventory, pb: Playbook): Promise<{ hosts: HostInfo[]; targeted: Set<string> }> {
  const targeted = targetsOf(inv, pb);
  const vars = await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => targeted.has(h.name)));
  return { hosts: inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars })), targeted };
}

/** Every host a play of the playbook targets. */
export function targetsOf(inv: Inventory, pb: Playbook): Set<string> {
  return new Set(pb.plays.flatMap((p) => playHosts(inv, p).map((h) => h.name)));
}
