import { strict as assert } from 'node:assert';
import { advertProblem, handoverS, masterDownS, skewS } from '../../../src/lb-blocks/vrrp-timers.js';

describe('VRRP timers (RFC 3768 / RFC 5798 as keepalived applies them)', () => {
  const cases: [string, number, number, 2 | 3, number, number][] = [
    // what, priority, advert_int, version, skew, master down
    ['v2, priority 140, 1 s adverts: the skew is (256-140)/256 s', 140, 1, 2, 0.453125, 3.453125],
    ['v2 ignores the interval in the skew', 140, 3, 2, 0.453125, 9.453125],
    ['v3, priority 140, 0.1 s adverts: the skew scales with the interval', 140, 0.1, 3, 0.0453125, 0.3453125],
    ['v3, priority 254 acts first', 254, 1, 3, 2 / 256, 3 + 2 / 256],
    ['v3, priority 1 acts last', 1, 0.5, 3, 0.498046875, 1.998046875],
  ];
  for (const [what, prio, advert, version, skew, down] of cases) {
    it(what, () => {
      assert.ok(Math.abs(skewS(prio, advert, version) - skew) < 1e-12);
      assert.ok(Math.abs(handoverS(prio, advert, version) - skew) < 1e-12);
      assert.ok(Math.abs(masterDownS(prio, advert, version) - down) < 1e-12);
    });
  }
  const adverts: [number, 2 | 3, string | undefined][] = [
    [1, 2, undefined], [255, 2, undefined], [0.5, 2, 'whole seconds'], [1.5, 2, 'whole seconds'], [256, 2, 'outside 1-255'],
    [0.01, 3, undefined], [0.1, 3, undefined], [0.35, 3, undefined], [40.95, 3, undefined], [0.005, 3, 'outside 0.01-40.95'], [0.125, 3, 'hundredths'], [41, 3, 'outside'],
  ];
  for (const [advert, version, problem] of adverts) {
    it(`advert_int ${advert} with version ${version}: ${problem ?? 'accepted'}`, () => {
      const got = advertProblem(advert, version);
      if (problem === undefined) assert.equal(got, undefined);
      else assert.ok(got?.includes(problem), got);
    });
  }
});
