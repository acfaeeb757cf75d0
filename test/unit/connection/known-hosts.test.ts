import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { formatKnownHostsLine, keyTypeOf, knownHostsName, parseKnownHosts, verifyHostKey } from '../../../src/connection/known-hosts.js';

/** A syntactically real ed25519 key blob: string "ssh-ed25519" then 32 key bytes. */
function blob(fill: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(type.length);
  const klen = Buffer.alloc(4);
  klen.writeUInt32BE(32);
  return Buffer.concat([len, type, klen, Buffer.alloc(32, fill)]);
}
const A = blob(1);
const B = blob(2);
const b64 = (k: Buffer) => k.toString('base64');

function hashed(name: string): string {
  const salt = Buffer.alloc(20, 7);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts', () => {
  const file = [
    '# comment',
    `198.18.0.11,lb1 ssh-ed25519 ${b64(A)} lb1`,
    `[198.18.0.12]:2222 ssh-ed25519 ${b64(A)}`,
    `${hashed('198.18.0.13')} ssh-ed25519 ${b64(B)}`,
    `198.18.1.* ssh-ed25519 ${b64(A)}`,
    `@revoked 198.18.0.14 ssh-ed25519 ${b64(B)}`,
    `198.18.0.14 ssh-ed25519 ${b64(A)}`,
    `198.18.2.*,!198.18.2.9 ssh-ed25519 ${b64(A)}`,
    'garbage-line',
  ].join('\n');
  const entries = parseKnownHosts(file);

  const cases: [string, string, number, Buffer, string][] = [
    ['plain host, same key', '198.18.0.11', 22, A, 'match'],
    ['plain host, other key', '198.18.0.11', 22, B, 'mismatch'],
    ['host alias', 'lb1', 22, A, 'match'],
    ['non-standard port recorded as [host]:port', '198.18.0.12', 2222, A, 'match'],
    ['same host on port 22 is not the [host]:2222 entry', '198.18.0.12', 22, A, 'unknown'],
    ['hashed host name', '198.18.0.13', 22, B, 'match'],
    ['hashed host name, other key', '198.18.0.13', 22, A, 'mismatch'],
    ['wildcard', '198.18.1.7', 22, A, 'match'],
    ['revoked key', '198.18.0.14', 22, B, 'revoked'],
    ['valid key beside a revoked one', '198.18.0.14', 22, A, 'match'],
    ['negated pattern', '198.18.2.9', 22, A, 'unknown'],
    ['unknown host', '198.18.0.99', 22, A, 'unknown'],
  ];
  for (const [what, host, port, key, verdict] of cases) {
    it(`${what} -> ${verdict}`, () => assert.equal(verifyHostKey(entries, host, port, key), verdict));
  }

  it('skips comments and malformed lines, keeps line numbers', () => {
    assert.equal(entries.length, 7);
    assert.equal(entries[0]?.line, 2);
  });

  it('formats a line OpenSSH reads back', () => {
    assert.equal(knownHostsName('198.18.0.11', 22), '198.18.0.11');
    assert.equal(knownHostsName('198.18.0.11', 2222), '[198.18.0.11]:2222');
    assert.equal(keyTypeOf(A), 'ssh-ed25519');
    const line = formatKnownHostsLine('198.18.0.12', 2222, B);
    assert.equal(verifyHostKey(parseKnownHosts(line), '198.18.0.12', 2222, B), 'match');
  });
});
