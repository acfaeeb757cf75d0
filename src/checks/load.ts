/**
 * Load through a VIP during a drill: h2load (nghttp2's benchmarking tool, Debian's nghttp2-client)
 * on the client host opens new connections at a fixed rate (open loop: a refused or hung request does
 * not slow the ones after it), one HTTP/1.1 request each, every request bounded by a timeout. Its
 * per-request log gives when each answered request started, its status and its latency; a request
 * that got no answer (refused, reset, timed out) is missing from the log and counted from the totals.
 */
import { sh, type ShellCommand } from '../connection/shell.js';

export interface LoadOptions {
  url: string;
  /** Requests per second, 10 to 2000, in steps of 10. */
  rate: number;
  seconds: number;
  /** A request not answered within this is a failure. */
  timeoutS: number;
}

export const LOAD_TOOL = { command: 'h2load', package: 'nghttp2-client (Debian/Ubuntu) or nghttp2 (RHEL family)' };

/** Connections per tick and the tick: as smooth as h2load's integer rate allows. */
export function ticks(rate: number): { perTick: number; periodMs: number } {
  if (!Number.isInteger(rate) || rate < 10 || rate > 2000 || rate % 10 !== 0) throw new Error(`the rate must be 10 to 2000 requests/s in steps of 10, not ${rate}`);
  return rate % 100 === 0 ? { perTick: rate / 100, periodMs: 10 } : { perTick: rate / 10, periodMs: 100 };
}

const MARK = '--- lbdeploy load log ---';

/** The script for the client: h2load bounded in count (rate x seconds) and time, its summary, then its log. */
export function loadScript(o: LoadOptions): ShellCommand {
  const { perTick, periodMs } = ticks(o.rate);
  const total = Math.round(o.rate * o.seconds);
  const timeoutMs = Math.round(o.timeoutS * 1000);
  // -T bounds each connection (one request each); timeout(1) bounds the whole run.
  return sh`command -v h2load >/dev/null || { echo 'h2load is not installed on this host' >&2; exit 127; }
log=$(mktemp); trap 'rm -f "$log"' EXIT
timeout ${Math.ceil(o.seconds + o.timeoutS + 10)} h2load --h1 -r ${perTick} --rate-period ${`${periodMs}ms`} -c ${total} -n ${total} -T ${`${timeoutMs}ms`} -N ${`${timeoutMs}ms`} --log-file "$log" ${o.url} | grep -E '^(requests|status codes):'
echo ${MARK}; cat "$log"`;
}

export interface LoadResult {
  requests: number;
  /** Not answered with a 2xx in time: refused, reset, timed out, or a 5xx/4xx. */
  failed: number;
  /** Latency of the answered requests, in ms. */
  p50Ms?: number;
  p99Ms?: number;
  /** Seconds from the fault until requests succeeded again (0: no request failed around the fault). */
  servingS?: number;
  /** Seconds from the fault to the first failed request, if one failed. */
  firstFailureS?: number;
}

export interface LoadEntry { startUs: number; status: number; latencyUs: number }

export function parseLoadLog(text: string): LoadEntry[] {
  return text.split('\n').map((l) => l.trim().split(/\s+/).map(Number)).filter((p) => p.length >= 3 && p.every(Number.isFinite))
    .map(([startUs, status, latencyUs]) => ({ startUs: startUs!, status: status!, latencyUs: latencyUs! })).sort((a, b) => a.startUs - b.startUs);
}

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * The figures of a drill's load. `faultUs`: when the fault happened, in the client's clock (µs since
 * the epoch). A moment is bad when a request that started then failed: a non-2xx in the log, or a
 * request missing from it (a gap longer than three ticks, and 50 ms, between answered starts). Serving again is
 * the first answered request after the first run of bad moments that follows the fault (bad moments
 * less than `mergeMs` apart are one run).
 */
export function evaluateLoad(output: string, rate: number, faultUs: number | undefined, mergeMs = 100): LoadResult {
  const [summary = '', log = ''] = output.split(MARK);
  const total = Number(/requests: (\d+) total/.exec(summary)?.[1] ?? NaN);
  const entries = parseLoadLog(log);
  const ok = entries.filter((e) => e.status >= 200 && e.status < 300);
  const requests = Number.isFinite(total) ? total : entries.length;
  const lat = ok.map((e) => e.latencyUs / 1000).sort((a, b) => a - b);
  const result: LoadResult = { requests, failed: Math.max(0, requests - ok.length), p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) };
  if (faultUs === undefined) return result;
  // Nothing failed: served throughout (a gap then is the generator's own scheduling, not the VIP).
  if (result.failed === 0) return { ...result, servingS: 0 };
  const { periodMs } = ticks(rate);
  const gapUs = Math.max(3 * periodMs, 50) * 1000;
  // Bad moments: failed answers, and the starts of gaps where requests are missing.
  const bad: [number, number][] = [];
  for (const e of entries) if (e.status < 200 || e.status >= 300) bad.push([e.startUs, e.startUs]);
  for (let i = 1; i < ok.length; i++) if (ok[i]!.startUs - ok[i - 1]!.startUs > gapUs) bad.push([ok[i - 1]!.startUs + 1, ok[i]!.startUs - 1]);
  // Requests missing at the end: the load ran rate x seconds from its first start.
  const last = ok[ok.length - 1];
  const endUs = entries.length > 0 ? entries[0]!.startUs + (requests / rate) * 1e6 : undefined;
  if (last && endUs !== undefined && endUs - last.startUs > gapUs) bad.push([last.startUs + 1, endUs]);
  bad.sort((a, b) => a[0] - b[0]);
  const after = bad.filter(([, end]) => end >= faultUs);
  if (after.length === 0) return { ...result, servingS: 0 };
  let end = after[0]![1];
  for (const [s, e] of after.slice(1)) {
    if (s - end > mergeMs * 1000) break;
    end = Math.max(end, e);
  }
  const next = ok.find((e) => e.startUs > end);
  return {
    ...result,
    firstFailureS: Math.max(0, (after[0]![0] - faultUs) / 1e6),
    servingS: next ? Math.max(0, (next.startUs - faultUs) / 1e6) : undefined,
  };
}
