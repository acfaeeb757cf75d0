/**
 * The VMs' way to the Debian mirror: an HTTP proxy on the lab gateway (198.18.0.1:3142) that
 * forwards GET/HEAD requests to the mirror this machine's apt uses, and nothing else. The VMs have
 * no DNS and send no traffic outside the lab network; name resolution happens here.
 * Started detached by `lab up --vms`, stopped by `lab down`.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { request as httpRequest, createServer } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { LabError } from '../errors.js';
import { debianMirror } from '../image/rootfs.js';
import type { LabPaths } from './paths.js';
import { livePid, sleep, stopPidFile, type Log } from './system.js';
import { LAB_NETWORK } from './topology.js';

export const APT_PROXY_PORT = 3142;
export const APT_PROXY_URL = `http://${LAB_NETWORK.gateway}:${APT_PROXY_PORT}`;

/** May this URL be fetched? Only plain HTTP to the mirror's host, GET or HEAD. */
export function allowed(method: string, url: string, mirror: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  try {
    const u = new URL(url);
    const m = new URL(mirror);
    return u.protocol === 'http:' && u.host === m.host && u.pathname.startsWith(m.pathname.replace(/\/?$/, '/'));
  } catch {
    return false;
  }
}

function serve(): void {
  const mirror = debianMirror();
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (!allowed(req.method ?? '', url, mirror)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`lbdeploy lab apt proxy: only GET/HEAD to ${mirror}\n`);
      return;
    }
    const upstream = httpRequest(url, { method: req.method, headers: { ...req.headers, host: new URL(url).host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    upstream.setTimeout(60_000, () => upstream.destroy(new Error('upstream timeout')));
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`lbdeploy lab apt proxy: ${e.message}\n`);
    });
    upstream.end();
  });
  server.listen(APT_PROXY_PORT, LAB_NETWORK.gateway);
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const pidFile = (paths: LabPaths) => `${paths.dir}/apt-proxy.pid`;

function answers(): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(APT_PROXY_PORT, LAB_NETWORK.gateway);
    s.once('connect', () => (s.destroy(), res(true)));
    s.once('error', () => res(false));
  });
}

export async function startAptProxy(paths: LabPaths, log: Log): Promise<void> {
  if (livePid(pidFile(paths)) && (await answers())) return;
  const out = openSync(`${paths.dir}/apt-proxy.log`, 'a');
  const self = fileURLToPath(import.meta.url);
  // From source (the tests run src/ through tsx) the module needs tsx to run on its own.
  const args = self.endsWith('.ts') ? ['--import', 'tsx', self, '--serve'] : [self, '--serve'];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(pidFile(paths), `${child.pid}\n`);
  for (let i = 0; i < 40; i++) {
    if (await answers()) {
      log(`apt proxy for the VMs on ${APT_PROXY_URL} (to ${debianMirror()} only)`);
      return;
    }
    await sleep(250);
  }
  throw new LabError('the apt proxy for the VMs did not start', { hint: `see ${paths.dir}/apt-proxy.log` });
}

export async function stopAptProxy(paths: LabPaths, log: Log): Promise<void> {
  await stopPidFile(pidFile(paths), 'the apt proxy', 5_000, log);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === '--serve') serve();
