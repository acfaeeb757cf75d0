/**
 * Facts in one round trip: every probe of a host goes into one script whose output is cut
 * into sections by a per-run nonce, so no probe's output can be mistaken for a marker.
 * Probes of one group (several files' state) share one command, then are cut apart again.
 */
import { randomBytes } from 'node:crypto';
import { raw, sh, type ShellCommand } from '../connection/shell.js';
import type { FactGroup, FactRequest, FactResult } from '../operations/types.js';

export interface FactBatch {
  script: ShellCommand;
  parse(stdout: string): Map<string, FactResult>;
}

export function dedupeFacts(requests: readonly FactRequest[]): FactRequest[] {
  const seen = new Map<string, FactRequest>();
  for (const r of requests) if (!seen.has(r.key)) seen.set(r.key, r);
  return [...seen.values()];
}

/** What a set of requests asks, as one string: two sets with the same signature get the same answers. */
export function factsSignature(requests: readonly FactRequest[]): string {
  return dedupeFacts(requests).map((r) => `${r.key}\0${r.command.text}`).sort().join('\n');
}

/** One section of the script: a lone request, or a group's requests answered together. */
type Section = { command: ShellCommand; keys: string[]; group?: { of: FactGroup; args: string[] } };

function sections(unique: readonly FactRequest[]): Section[] {
  const groups = new Map<string, FactRequest[]>();
  for (const r of unique) if (r.group) groups.set(r.group.id, [...(groups.get(r.group.id) ?? []), r]);
  const out: Section[] = [];
  const placed = new Set<string>();
  for (const r of unique) {
    const members = r.group ? groups.get(r.group.id)! : [];
    if (members.length < 2) {
      out.push({ command: r.command, keys: [r.key] });
    } else if (!placed.has(r.group!.id)) {
      placed.add(r.group!.id);
      const args = members.map((m) => m.group!.arg);
      out.push({ command: r.group!.command(args), keys: members.map((m) => m.key), group: { of: r.group!, args } });
    }
  }
  return out;
}

/** What runs a batch on a host (a session's run). */
type RunScript = (script: ShellCommand) => Promise<{ stdout: string; stderr: string; code: number | null }>;

/**
 * Run the requests as one batch; a group whose shared answer could not be cut apart (a file
 * replaced while it was read) is asked again, each request with its own command. The first
 * command's result comes back too, for its error text.
 */
export async function runFacts(run: RunScript, requests: readonly FactRequest[]): Promise<{ facts: Map<string, FactResult>; first: { stdout: string; stderr: string; code: number | null } }> {
  const batch = batchFacts(requests);
  const first = await run(batch.script);
  const facts = batch.parse(first.stdout);
  const parsed = facts.size > 0;
  const missing = parsed ? dedupeFacts(requests).filter((q) => !facts.has(q.key)).map(({ group: _, ...alone }) => alone) : [];
  if (missing.length > 0) {
    const again = batchFacts(missing);
    for (const [k, v] of again.parse((await run(again.script)).stdout)) facts.set(k, v);
  }
  return { facts, first };
}

export function batchFacts(requests: readonly FactRequest[], nonce = randomBytes(6).toString('hex')): FactBatch {
  const parts = sections(dedupeFacts(requests));
  const mark = `@@lbd${nonce}`;
  const script = raw(parts.map((p, i) =>
    sh`printf '\n%s %s\n' ${mark} ${`begin:${i}`}; ( ${p.command} ) 2>/dev/null </dev/null; printf '\n%s %s %s\n' ${mark} ${`end:${i}`} "$?"`.text).join('\n'));
  return {
    script,
    parse(stdout: string) {
      const out = new Map<string, FactResult>();
      const re = new RegExp(`\\n${mark} begin:(\\d+)\\n([\\s\\S]*?)\\n${mark} end:\\1 (\\d+)\\n`, 'g');
      for (const m of stdout.matchAll(re)) {
        const part = parts[Number(m[1])];
        if (!part) continue;
        const result = { stdout: m[2]!, code: Number(m[3]) };
        if (!part.group) {
          out.set(part.keys[0]!, result);
          continue;
        }
        // A group that could not be cut apart (its files changed while it ran) leaves its keys out,
        // never a wrong reading: runFacts asks those requests again, each alone.
        const each = part.group.of.split(result.stdout, part.group.args, result.code);
        if (typeof each === 'string') continue;
        part.keys.forEach((k, i) => out.set(k, each[i]!));
      }
      return out;
    },
  };
}
