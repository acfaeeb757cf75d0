import { strict as assert } from 'node:assert';
import { printfEscapes, proxyV2Header } from '../helpers/proxy-v2.js';

describe('test helper: PROXY v2 header', () => {
  it('encodes signature, version/command, family, length and addresses', () => {
    const h = proxyV2Header('198.18.0.30', '198.18.0.21', 40000, 8080);
    assert.equal(h.length, 28);
    assert.equal(h.subarray(0, 12).toString('hex'), '0d0a0d0a000d0a515549540a');
    assert.equal(h.subarray(12, 16).toString('hex'), '2111000c');
    assert.equal(h.subarray(16, 24).toString('hex'), 'c612001ec6120015');
    assert.equal(h.readUInt16BE(24), 40000);
    assert.equal(h.readUInt16BE(26), 8080);
    assert.equal(printfEscapes(Buffer.from([0, 255])), '\\x00\\xff');
  });

  it('rejects a malformed address', () => {
    assert.throws(() => proxyV2Header('198.18.0', '198.18.0.21', 1, 2), /not an IPv4 address/);
  });
});
