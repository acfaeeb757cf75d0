import { strict as assert } from 'node:assert';
import { evaluatePreflight, parseReceived, preflightScript, probePayload, vridsChange, type VrrpSegment } from '../../../src/checks/vrrp-preflight.js';
import { vrrpV2Advert } from '../../helpers/vrrp.js';

const hex = (s: string) => Buffer.from(s).toString('hex');
const NONCE = 'a1b2c3d4';
// As read on the lab (socat IP4-RECV / IP6-RECV, then od): adverts of VRID 51 (v2, PASS "lab-vrrp") and 52 (v3, IPv6).
const V2_ADVERT = '213396010101c9e1c61200646c61622d76727270';
const V3_ADVERT = '313496010064d6b120010002000000000000000000000100';

const SEG: VrrpSegment = {
  interface: 'eth0', unicast: true,
  instances: [{ name: 'VI_4', vrid: 51, vip: '198.18.0.100', v6: false }, { name: 'VI_6', vrid: 52, vip: '2001:2::100', v6: true }],
  addresses: { lb1: { v4: '198.18.0.11', v6: '2001:2::11' }, lb2: { v4: '198.18.0.12', v6: '2001:2::12' } },
};

describe('VRRP pre-flight: parsing what a raw socket received, and judging it', () => {
  it('walks adverts and probes in one stream: v2 (with its 8 bytes of auth), v3 IPv6, the probe mark', () => {
    const four = parseReceived(V2_ADVERT + hex(probePayload(1, NONCE)) + V2_ADVERT, 4, NONCE);
    assert.deepEqual(four, { probes: [1], adverts: [{ version: 2, vrid: 51, priority: 150, addresses: ['198.18.0.100'] }, { version: 2, vrid: 51, priority: 150, addresses: ['198.18.0.100'] }], junk: false });
    const six = parseReceived(V3_ADVERT + hex(probePayload(0, NONCE)), 6, NONCE);
    assert.deepEqual(six, { probes: [0], adverts: [{ version: 3, vrid: 52, priority: 150, addresses: ['2001:2::100'] }], junk: false });
  });
  it('a probe of another run (another nonce) is not counted; bytes that are no VRRP stop the walk', () => {
    assert.deepEqual(parseReceived(hex(probePayload(1, 'ffffffff')), 4, NONCE).probes, []);
    assert.equal(parseReceived('ff00ff00', 4, NONCE).junk, true);
  });

  const out = (v4: string, v6: string) => `V4 ${v4}\nV6 ${v6}\n`;
  const cases: { what: string; outputs: Record<string, string>; expect: RegExp[] }[] = [
    { what: 'every pair heard in both families, own adverts only: no issue',
      outputs: { lb1: out(hex(probePayload(1, NONCE)) + V2_ADVERT, hex(probePayload(1, NONCE))), lb2: out(hex(probePayload(0, NONCE)), hex(probePayload(0, NONCE)) + V3_ADVERT) }, expect: [] },
    { what: 'lb2 hears nothing from lb1 over IPv4',
      outputs: { lb1: out(hex(probePayload(1, NONCE)), hex(probePayload(1, NONCE))), lb2: out('', hex(probePayload(0, NONCE))) },
      expect: [/^lb2: VRRP \(IP protocol 112, IPv4\) from lb1 \(198\.18\.0\.11\) does not reach lb2 \(198\.18\.0\.12\) on eth0: VRID 51/] },
    { what: 'a foreign router advertises VRID 51 with another address',
      outputs: { lb1: out(hex(probePayload(1, NONCE)) + vrrpV2Advert(51, 100, '198.18.0.250'), hex(probePayload(1, NONCE))), lb2: out(hex(probePayload(0, NONCE)), hex(probePayload(0, NONCE))) },
      expect: [/^lb1: a foreign VRRP router already advertises VRID 51 on lb1's segment \(VRRPv2, priority 100, addresses 198\.18\.0\.250\): VI_4/] },
    { what: 'no socat on a node: said, and its peers are not blamed',
      outputs: { lb1: 'NO-SOCAT\n', lb2: out('', '') }, expect: [/^lb1: lb1: socat is not installed/] },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const issues = evaluatePreflight(SEG, ['lb1', 'lb2'], new Map(Object.entries(c.outputs)), NONCE);
      assert.equal(issues.length, c.expect.length, JSON.stringify(issues));
      issues.forEach((i, k) => assert.match(`${i.host}: ${i.message}`, c.expect[k]!));
    });
  }

  it('the script listens on both families, bounded, and sends each peer its probe', () => {
    const s = preflightScript(SEG, 'lb1', ['lb1', 'lb2'], NONCE, 3).text;
    assert.match(s, /timeout 3 socat -u IP4-RECV:112,ip-add-membership=224\.0\.0\.18:eth0 -/);
    assert.match(s, /timeout 3 socat -u IP6-RECV:112,ipv6-join-group='\[ff02::12\]:eth0' -/);
    assert.match(s, /printf '%s' lbdeploy-preflight:0000:a1b2c3d4 \| socat -u - IP4-SENDTO:198\.18\.0\.12:112/);
    assert.match(s, /IP6-SENDTO:'\[2001:2::12\]':112/);
  });

  it('needed only where the VRIDs change', () => {
    assert.equal(vridsChange(SEG, ['51\n52\n', '52\n51\n']), false);
    assert.equal(vridsChange(SEG, ['51\n52\n', '']), true, 'a node without keepalived.conf');
    assert.equal(vridsChange(SEG, ['51\n53\n', '51\n52\n']), true);
  });
});
