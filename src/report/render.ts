/** Renderers for run events: plain lines, JSON lines, and the masking wrapper every one sits behind. */
import type { Masker } from '../inventory/secret.js';
import { table } from './console.js';
import type { HostRecap, Reporter, RunEvent, PhaseTimes } from './events.js';

export type Write = (text: string) => void;

/** Every event passes the masker before any renderer sees it: secrets cannot reach output. */
export function masking(masker: Masker, inner: Reporter): Reporter {
  return { emit: (e) => inner.emit(masker.maskDeep(e)), close: () => inner.close() };
}

export function jsonLines(write: Write): Reporter {
  return { emit: (e) => write(JSON.stringify(e) + '\n'), close: async () => undefined };
}

const MARK: Record<string, string> = { ok: 'ok', changed: 'changed', failed: 'FAILED', skipped: 'skipped' };

/** One line per step outcome, for logs and non-terminals. */
export function plainLines(write: Write, options: { verbose?: boolean } = {}): Reporter {
  return {
    emit(e: RunEvent) {
      switch (e.type) {
        case 'run-start':
          write(`${e.check ? 'CHECK ' : ''}run ${e.playbooks.join(', ')} on ${e.hosts.length} host(s)\n`);
          break;
        case 'play-start':
          write(`\nPLAY ${e.playbook}: ${e.play} [${e.hosts.join(', ')}]\n`);
          break;
        case 'note':
          write(`${e.playbook}: ${e.text}\n`);
          break;
        case 'lock-wait':
          write(`LOCKED ${e.host}: another lbdeploy run holds it (${e.holder}); waiting up to ${e.waitS} s\n`);
          break;
        case 'host-unreachable':
          write(`UNREACHABLE ${e.host}: ${e.message}${e.hint ? `\n  → ${e.hint}` : ''}\n`);
          break;
        case 'step':
          // A handler runs only when notified: even its no-op says something (a reboot not allowed, a container not running).
          if (e.status === 'ok' && !options.verbose && !e.diff && !e.handler && !e.hint) break;
          write(`${MARK[e.status]} ${e.host}: ${e.handler ? 'handler ' : ''}${e.step}${e.message ? ` - ${e.message}` : ''}${e.hint ? `\n  → ${e.hint}` : ''}\n`);
          if (e.diff) write(e.diff.endsWith('\n') ? e.diff : e.diff + '\n');
          break;
        case 'interrupted':
          write(`INTERRUPTED: ${e.message}\n`);
          break;
        case 'wait-start':
          write(`\nWAIT until it serves (at most ${e.timeoutS} s): ${e.deployments.join('; ')}\n`);
          break;
        case 'preflight':
          if (e.skipped) write(`PREFLIGHT skipped ${e.deployment}: ${e.skipped}\n`);
          else if (e.ok) write(`PREFLIGHT ok ${e.deployment}: VRRP passes between every pair, no foreign router on its VRIDs (${(e.ms / 1000).toFixed(1)} s)\n`);
          else write(`PREFLIGHT FAILED ${e.deployment}: nothing was changed\n${e.issues.map((i) => `  ${i.where ? `${i.where}: ` : ''}${i.host}: ${i.message}\n  → ${i.hint}\n`).join('')}`);
          break;
        case 'wait-done':
          if (e.ready) write(`READY after ${(e.ms / 1000).toFixed(1)} s: ${e.checks} check(s) ok\n`);
          else write(`NOT READY after ${(e.ms / 1000).toFixed(1)} s: ${e.failing.length} of ${e.checks} check(s) never passed:\n${e.failing.map((c) => `  ${c.severity.toUpperCase()} ${c.check} ${c.target}: ${c.detail}\n`).join('')}  → see why with \`lbdeploy verify\`; wait longer with --wait SECONDS\n`);
          break;
        case 'batch-start':
          write(`\nBATCH ${e.index}/${e.of}: ${e.clusters.join('; ')}\n  first ${e.backups.join(', ') || '-'}; VIP holders last: ${e.holders.join(', ') || '-'}\n`);
          break;
        case 'batch-done':
          write(`BATCH ${e.index}/${e.of} ${e.ok ? 'ok' : `FAILED: ${e.problem}`} in ${(e.ms / 1000).toFixed(1)} s (health gate ${(e.gateMs / 1000).toFixed(1)} s)\n`);
          break;
        case 'rollout-stopped':
          write(`\nROLLOUT STOPPED after batch ${e.after}/${e.of}: ${e.reason}\n  → resume with: ${e.resume}\n`);
          break;
        case 'rollout-done':
          write(`\nROLLOUT ${e.stopped ? 'stopped' : 'done'}: ${e.batches.length} batch(es) in ${(e.ms / 1000).toFixed(1)} s; gates ${e.batches.map((b) => `${(b.gateMs / 1000).toFixed(1)}`).join(', ')} s\n`);
          break;
        case 'timings':
          write(`\n${timingsTable(e)}\n`);
          break;
        case 'recap':
          write(`\n${recapTable(e.hosts)}\n${e.connections} SSH connection(s)${e.peakOpen !== undefined && e.peakOpen < e.connections ? ` (at most ${e.peakOpen} open at once)` : ''}, ${Object.values(e.commands).reduce((a, b) => a + b, 0)} remote command(s), ${(e.ms / 1000).toFixed(1)} s\n`);
          break;
        default:
          break;
      }
    },
    close: async () => undefined,
  };
}

export function recapTable(hosts: Record<string, HostRecap>): string {
  return table(['RECAP', 'ok', 'changed', 'failed', 'skipped', 'unreachable', 'time'],
    Object.entries(hosts).map(([h, r]) => [h, String(r.ok), String(r.changed), String(r.failed), String(r.skipped), r.unreachable ? 'yes' : '0', `${(r.ms / 1000).toFixed(1)}s`]));
}

const PHASE_ORDER = ['connect', 'authenticate', 'lock', 'facts', 'apply', 'handlers', 'wait'] as const;

/** `--timings`: each phase summed over the hosts, then the slowest hosts with their phases. */
export function timingsTable(e: Extract<RunEvent, { type: 'timings' }>, slowest = 5): string {
  const total = (t: PhaseTimes) => PHASE_ORDER.reduce((a, p) => a + (t[p] ?? 0), 0);
  const ms = (n: number | undefined) => (n === undefined ? '-' : n >= 10_000 ? `${(n / 1000).toFixed(1)}s` : `${Math.round(n)}ms`);
  const row = (name: string, t: PhaseTimes) => [name, ...PHASE_ORDER.map((p) => ms(t[p])), ms(total(t))];
  const hosts = Object.entries(e.hosts).sort(([, a], [, b]) => total(b) - total(a));
  return `${table(['TIMINGS', ...PHASE_ORDER, 'total'], [
    row(`all ${hosts.length} host(s)`, e.totals),
    ...hosts.slice(0, slowest).map(([h, t]) => row(h, t)),
  ])}\n(time on the hosts, summed per phase; hosts run in parallel: the run took ${(e.ms / 1000).toFixed(1)} s; slowest ${Math.min(slowest, hosts.length)} shown)`;
}
