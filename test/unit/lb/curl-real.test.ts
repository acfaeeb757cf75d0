/**
 * The end-to-end request script for real: curlScript run by /bin/sh and curl against local
 * servers (loopback only), read by evaluateCurl. A 503 is a failure, an unexpected body is a
 * failure, and HTTPS is checked against a CA made by the lab's openssl CA (a wrong CA fails).
 */
import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { curlScript, evaluateCurl, type EndToEnd } from '../../../src/checks/curl.js';
import { withPki } from '../../helpers/certs.js';

/** Run asynchronously: the servers answer from this same process. */
const run = async (e: EndToEnd, count: number) => evaluateCurl(e, (await promisify(execFile)('/bin/sh', ['-c', curlScript(e, count).text], { encoding: 'utf8' })).stdout, count)[0]!;
const listen = (s: Server) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as AddressInfo).port)));
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));
const target = (port: number) => ({ name: 'svc', vip: '127.0.0.1', port, servers: [{ name: 'web1', address: '127.0.0.1', port }] });

describe('end-to-end requests for real: curl through a local server, status and body read', () => {
  let server: Server;
  let port: number;
  before(async () => {
    server = createHttp((req, res) => {
      if (req.url === '/down') res.writeHead(503).end('<h1>503 Service Unavailable</h1>');
      else if (req.url === '/maintenance') res.writeHead(200).end('down for maintenance');
      else res.writeHead(200).end('host=web1 client=127.0.0.1\nok\n');
    });
    port = await listen(server);
  });
  after(() => close(server));

  const CASES: [title: string, e: (port: number) => EndToEnd, severity: string, detail: RegExp][] = [
    ['200 with the expected body', (p) => ({ target: target(p), mode: 'http', expectBody: 'ok' }), 'ok', /^3\/3 answered; backends reached: web1$/],
    ['503: answered, and a failure', (p) => ({ target: target(p), mode: 'http', path: '/down' }), 'critical', /0\/3 answered \(3 answered HTTP 503\)/],
    ['200 with another body', (p) => ({ target: target(p), mode: 'http', path: '/maintenance', expectBody: 'ok' }), 'critical', /0\/3 answered \(3 without 'ok' in the body\)/],
    ['nothing listening', () => ({ target: target(1), mode: 'http' }), 'critical', /0\/3 answered \(3 without an answer\)/],
  ];
  for (const [title, e, severity, detail] of CASES) {
    it(title, async () => {
      const c = await run(e(port), 3);
      assert.equal(c.severity, severity, c.detail);
      assert.match(c.detail, detail);
    });
  }

  it('HTTPS: the server\'s certificate checked against the given CA and name; another CA fails', async function () {
    this.timeout(30_000);
    await withPki(async (pki) => {
      const [cert, key] = await pki.issue('svc', '/CN=kube-apiserver', 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:kubernetes', { notBeforeDays: -1, notAfterDays: 30 });
      const ca = join(pki.dir, 'ca.crt');
      const tls = createHttps({ cert, key }, (_req, res) => res.writeHead(200).end('ok'));
      const p = await listen(tls);
      try {
        const e: EndToEnd = { target: target(p), mode: 'https', path: '/readyz', caFile: ca, serverName: 'kubernetes', expectBody: 'ok' };
        const good = await run(e, 2);
        assert.equal(good.severity, 'ok', good.detail);
        assert.equal(good.check, 'https via vip');
        const other = join(pki.dir, 'other-ca.crt');
        execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(pki.dir, 'other.key'), '-out', other, '-days', '1', '-subj', '/CN=other'], { stdio: 'ignore' });
        assert.equal((await run({ ...e, caFile: other }, 2)).severity, 'critical', 'a certificate from another CA is not trusted');
        assert.equal((await run({ ...e, serverName: undefined }, 2)).severity, 'critical', 'the certificate does not name 127.0.0.1');
      } finally {
        await close(tls);
      }
    });
  });
});
