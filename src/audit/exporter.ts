/**
 * `lbdeploy audit --serve ADDRESS:PORT`: a Prometheus exporter. It audits on an interval (each host
 * under its time limit, as the audit always does) and serves the last result: /metrics (text
 * format), /healthz (200 while audits run to their end and are fresh). Scrapes never start an
 * audit, so a scrape is cheap and a slow host never makes a scrape time out.
 */
import { createServer, type Server } from 'node:http';
import { auditMetrics, type AuditMetrics } from './metrics.js';
import type { AuditReport } from './formats.js';

export interface ExporterOptions {
  host: string;
  port: number;
  intervalMs: number;
  inventory: string;
  /** One audit; throws when it cannot run at all (e.g. the inventory became invalid). */
  runAudit: () => Promise<AuditReport>;
  /** Extra series read fresh at each audit (the drill history). */
  drills?: () => AuditMetrics['drills'];
  /** Masks secrets in anything served. */
  mask: (text: string) => string;
  log: (line: string) => void;
}

export interface Exporter {
  server: Server;
  /** Resolves after the current audit (if any) and the server stop. */
  stop(): Promise<void>;
}

/** `ADDRESS:PORT`, `[IPv6]:PORT` or `:PORT` (all addresses). */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`--serve takes ADDRESS:PORT, [IPv6]:PORT or :PORT, not '${text}'`);
  return { host: m[1] ?? (m[2] || '::'), port };
}

export async function startExporter(o: ExporterOptions): Promise<Exporter> {
  let state: AuditMetrics = { up: false, durationS: 0 };
  let lastError: string | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const once = async () => {
    const t0 = Date.now();
    try {
      const report = await o.runAudit();
      state = { report, up: true, durationS: (Date.now() - t0) / 1000, drills: o.drills?.() };
      lastError = undefined;
      o.log(`audit ${report.status}: ${report.checks.length} checks in ${state.durationS.toFixed(1)} s`);
    } catch (e) {
      // Keep the last report (its timestamp ages, which the stale alert sees); say the audit is down.
      state = { ...state, up: false, durationS: (Date.now() - t0) / 1000 };
      lastError = o.mask((e as Error).message);
      o.log(`audit failed: ${lastError}`);
    }
  };
  const loop = () => {
    if (stopped) return;
    running = once().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(loop, o.intervalMs);
    });
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(o.mask(auditMetrics(o.inventory, state)));
    } else if (path === '/healthz') {
      const age = state.report ? (Date.now() - Date.parse(state.report.generatedAt)) / 1000 : Infinity;
      const fresh = age < (3 * o.intervalMs) / 1000 + 60;
      const ok = state.up && fresh;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' })
        .end(ok ? `ok: last audit ${Math.round(age)} s ago\n` : state.report ? `not ok: ${lastError ?? `last audit ${Math.round(age)} s ago`}\n` : `not ok: ${lastError ?? 'no audit finished yet'}\n`);
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><title>lbdeploy audit exporter</title><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p>\n');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  loop();
  return {
    server,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
