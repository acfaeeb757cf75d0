import { strict as assert } from 'node:assert';
import { evaluateLoad, loadScript, parseLoadLog, ticks } from '../../../src/checks/load.js';

/** h2load's output as the drill reads it: the two summary lines, the mark, the per-request log (start µs, status, latency µs). */
function output(total: number, rows: [number, number, number][]): string {
  return `requests: ${total} total, ${total} started, ${rows.length} done, ${rows.length} succeeded, ${total - rows.length} failed, 0 errored, 0 timeout\nstatus codes: ${rows.length} 2xx, 0 3xx, 0 4xx, 0 5xx\n--- lbdeploy load log ---\n`
    + rows.map((r) => r.join('\t')).join('\n') + '\n';
}
const T0 = 1_800_000_000_000_000;
/** 200 req/s: two requests every 10 ms, `ms` from T0, each answered in 1.5 ms unless `skip` says otherwise. */
function steady(fromMs: number, toMs: number, skip: (ms: number) => number | undefined = () => 200): [number, number, number][] {
  const rows: [number, number, number][] = [];
  for (let ms = fromMs; ms < toMs; ms += 10) for (let k = 0; k < 2; k++) {
    const status = skip(ms);
    if (status !== undefined) rows.push([T0 + ms * 1000 + k * 100, status, 1500 + k * 1000]);
  }
  return rows;
}

describe('drill load (h2load): rate, parsing, figures', () => {
  const rates: [number, { perTick: number; periodMs: number } | RegExp][] = [
    [200, { perTick: 2, periodMs: 10 }], [1000, { perTick: 10, periodMs: 10 }], [50, { perTick: 5, periodMs: 100 }], [10, { perTick: 1, periodMs: 100 }],
    [5, /10 to 2000/], [2010, /10 to 2000/], [205, /steps of 10/],
  ];
  for (const [rate, want] of rates) {
    it(`rate ${rate}: ${want instanceof RegExp ? 'refused' : `${want.perTick} per ${want.periodMs} ms`}`, () => {
      if (want instanceof RegExp) assert.throws(() => ticks(rate), want);
      else assert.deepEqual(ticks(rate), want);
    });
  }

  it('the script is bounded in count and time, and says when h2load is missing', () => {
    const s = loadScript({ url: 'http://198.18.0.100:80/', rate: 200, seconds: 10, timeoutS: 1 }).text;
    assert.match(s, /timeout 21 h2load --h1 -r 2 --rate-period '?10ms'? -c 2000 -n 2000 -T '?1000ms'? -N '?1000ms'?/);
    assert.match(s, /h2load is not installed on this host/);
  });

  it('parses the log, sorted by start, skipping junk', () => {
    assert.deepEqual(parseLoadLog(`${T0 + 20}\t200\t5\n${T0}\t503\t7\nnot a row\n`), [{ startUs: T0, status: 503, latencyUs: 7 }, { startUs: T0 + 20, status: 200, latencyUs: 5 }]);
  });

  const faultMs = 1000;
  const cases: { what: string; rows: [number, number, number][]; total: number; failed: number; serving?: number; first?: number }[] = [
    { what: 'nothing lost: served throughout (0 s)', rows: steady(0, 3000), total: 600, failed: 0, serving: 0 },
    { what: 'a 300 ms outage from the fault: requests missing from the log', rows: steady(0, 3000, (ms) => (ms >= 1000 && ms < 1300 ? undefined : 200)), total: 600, failed: 60, serving: 0.3, first: 0 },
    { what: '5xx answers count as failures, and as the outage', rows: steady(0, 3000, (ms) => (ms >= 1100 && ms < 1200 ? 503 : 200)), total: 600, failed: 20, serving: 0.2, first: 0.1 },
    { what: 'two bursts 50 ms apart are one outage; a later failback burst is counted, not timed',
      rows: steady(0, 3000, (ms) => ((ms >= 1000 && ms < 1100) || (ms >= 1150 && ms < 1200) || (ms >= 2500 && ms < 2550) ? undefined : 200)), total: 600, failed: 40, serving: 0.2, first: 0 },
    { what: 'an outage before the fault is not the fault\'s', rows: steady(0, 3000, (ms) => (ms >= 200 && ms < 300 ? undefined : 200)), total: 600, failed: 20, serving: 0 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const r = evaluateLoad(output(c.total, c.rows), 200, T0 + faultMs * 1000);
      assert.equal(r.requests, c.total);
      assert.equal(r.failed, c.failed);
      assert.ok(r.servingS !== undefined && Math.abs(r.servingS - c.serving!) < 0.015, `serving ${r.servingS}`);
      if (c.first !== undefined) assert.ok(Math.abs(r.firstFailureS! - c.first) < 0.015, `first failure ${r.firstFailureS}`);
      else assert.equal(r.firstFailureS, undefined);
      assert.equal(r.p50Ms, 1.5);
      assert.equal(r.p99Ms, 2.5);
    });
  }
  it('never served again: no time', () => {
    const r = evaluateLoad(output(600, steady(0, 1000)), 200, T0 + faultMs * 1000);
    assert.equal(r.servingS, undefined);
    assert.equal(r.failed, 400);
  });
});
