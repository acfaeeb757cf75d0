import { strict as assert } from 'node:assert';
import { allowed } from '../../../src/lab/apt-proxy.js';

describe('lab apt proxy: forwards only to the Debian mirror', () => {
  const mirror = 'http://deb.debian.org/debian';
  const cases: [string, string, boolean][] = [
    ['GET', 'http://deb.debian.org/debian/dists/bookworm/InRelease', true],
    ['HEAD', 'http://deb.debian.org/debian/pool/main/i/ipvsadm/ipvsadm_1.31-1+b1_amd64.deb', true],
    ['POST', 'http://deb.debian.org/debian/dists/bookworm/InRelease', false],
    ['GET', 'http://deb.debian.org/debian-evil/x', false],
    ['GET', 'http://198.18.0.21/', false],
    ['GET', 'http://10.0.0.1/debian/x', false],
    ['GET', 'https://deb.debian.org/debian/x', false],
    ['CONNECT', 'deb.debian.org:443', false],
    ['GET', 'not a url', false],
  ];
  for (const [method, url, ok] of cases) it(`${method} ${url} -> ${ok ? 'forwarded' : 'refused'}`, () => assert.equal(allowed(method, url, mirror), ok));
});
