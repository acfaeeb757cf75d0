/**
 * Facts in one round trip: every probe of a host goes into one script whose output is cut
 * into sections by a per-run nonce, so no probe's output can be mistaken for a marker.
 */
import { randomBytes } from 'node:crypto';
import { raw, sh, type ShellCommand } from '../connection/shell.js';
import type { FactRequest, FactResult } from '../operations/types.js';

export interface FactBatch {
  script: ShellCommand;
  parse(stdout: string): Map<string, FactResult>;
}

export function dedupeFacts(requests: readonly FactRequest[]): FactRequest[] {
  const seen = new Map<string, FactRequest>();
  for (const r of requests) if (!seen.has(r.key)) seen.set(r.key, r);
  return [...seen.values()];
}

export function batchFacts(requests: readonly FactRequest[], nonce = randomBytes(6).toString('hex')): FactBatch {
  const unique = dedupeFacts(requests);
  const mark = `@@lbd${nonce}`;
  const parts = unique.map((r, i) =>
    sh`printf '\n%s %s\n' ${mark} ${`begin:${i}`}; ( ${r.command} ) 2>/dev/null </dev/null; printf '\n%s %s %s\n' ${mark} ${`end:${i}`} "$?"`.text);
  const script = raw(parts.join('\n'));
  return {
    script,
    parse(stdout: string) {
      const out = new Map<string, FactResult>();
      const re = new RegExp(`\\n${mark} begin:(\\d+)\\n([\\s\\S]*?)\\n${mark} end:\\1 (\\d+)\\n`, 'g');
      for (const m of stdout.matchAll(re)) {
        const req = unique[Number(m[1])];
        if (req) out.set(req.key, { stdout: m[2]!, code: Number(m[3]) });
      }
      return out;
    },
  };
}
