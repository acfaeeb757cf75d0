import { strict as assert } from 'node:assert';
import { holdsAddress } from '../../../src/checks/vip.js';
import { parseShowStat } from '../../../src/kinds/haproxy-keepalived/checks.js';
import { evaluateCurl, parsePage } from '../../../src/checks/curl.js';

const IP = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
109: eth0    inet 198.18.0.11/24 brd 198.18.0.255 scope global eth0\\       valid_lft forever
109: eth0    inet 198.18.0.100/24 scope global secondary eth0\\       valid_lft forever
109: eth0    inet6 fd00::100/64 scope global\\       valid_lft forever`;

const STAT = `# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight
ingress-proxy,FRONTEND,,,0,1,4096,6,,,,,,,,,,OPEN,
ingress-proxy,web1,0,0,0,1,,2,,,,,,,,,,UP,1
ingress-proxy,web2,0,0,0,1,,2,,,,,,,,,,DOWN,1
ingress-proxy,web3,0,0,0,1,,2,,,,,,,,,,UP 1/2,1
ingress-proxy,BACKEND,0,0,0,1,,6,,,,,,,,,,UP,2
`;

describe('verify: probes and parsers', () => {
  const holds: [string, boolean][] = [['198.18.0.100', true], ['198.18.0.10', false], ['198.18.0.1', false], ['fd00::100', true], ['127.0.0.1', true],
    // The same IPv6 address written another way; a neighbour that is not it.
    ['fd00:0:0::100', true], ['FD00::0100', true], ['fd00::10', false], ['fd00::100:0', false]];
  for (const [addr, want] of holds) it(`ip addr: holds ${addr} = ${want}`, () => assert.equal(holdsAddress(IP, addr), want));

  it('reads server states from haproxy show stat', () => {
    assert.deepEqual(parseShowStat(STAT), [
      { proxy: 'ingress-proxy', server: 'web1', status: 'UP' },
      { proxy: 'ingress-proxy', server: 'web2', status: 'DOWN' },
      { proxy: 'ingress-proxy', server: 'web3', status: 'UP 1/2' },
    ]);
    assert.deepEqual(parseShowStat(''), []);
  });

  it('reads a backend page', () => {
    assert.deepEqual(parsePage('host=web2 client=198.18.0.30 proxy=198.18.0.11'), { host: 'web2', client: '198.18.0.30' });
    assert.deepEqual(parsePage('<html>'), { host: undefined, client: undefined });
  });

  const t = { name: 'svc', vip: '198.18.0.100', port: 80, sendProxy: 'v2' as const, servers: ['web1', 'web2'].map((n) => ({ name: n, address: n, port: 8081 })) };
  const e = { target: t, mode: 'http' as const };
  /** curlScript's output for answers given as [status, body] (status 0: curl got no answer). */
  const out = (...answers: [number, string][]) => answers.map(([code, body]) => `@@lbdeploy-request\n${body}\n@@lbdeploy-status=${String(code).padStart(3, '0')}\n`).join('');
  it('curl through the VIP: all answered, both backends, real client address', () => {
    const o = out([200, 'host=web1 client=198.18.0.30'], [200, 'host=web2 client=198.18.0.30'], [200, 'host=web1 client=198.18.0.30'], [200, 'host=web2 client=198.18.0.30']);
    assert.deepEqual(evaluateCurl(e, o, 4, '198.18.0.30').map((c) => c.severity), ['ok', 'ok', 'ok']);
  });
  it('curl through the VIP: a failed request, a missed backend, the LB address instead of the client', () => {
    const c = evaluateCurl(e, out([200, 'host=web1 client=198.18.0.11'], [0, ''], [200, 'host=web1 client=198.18.0.11']), 3, '198.18.0.30');
    assert.deepEqual(c.map((x) => `${x.check}:${x.severity}`), ['curl via vip:warning', 'round robin:warning', 'client address:critical']);
    assert.match(c[0]!.detail, /^2\/3 answered \(1 without an answer\)/);
    assert.match(c[2]!.detail, /backends saw 198\.18\.0\.11, not 198\.18\.0\.30/);
  });
  it('curl through the VIP: nothing answered is critical', () => {
    assert.deepEqual(evaluateCurl(e, out([0, ''], [0, '']), 2).map((x) => `${x.check}:${x.severity}`), ['curl via vip:critical']);
  });
  const STATUS: [title: string, answers: [number, string][], expectBody: string | undefined, severity: string, detail: RegExp][] = [
    ['a 5xx is a failure, not an answer', [[503, '<h1>503 Service Unavailable</h1>'], [503, '']], undefined, 'critical', /0\/2 answered \(2 answered HTTP 503\)/],
    ['a 404 among 200s is a warning naming it', [[200, 'host=web1'], [404, 'not found']], undefined, 'warning', /1\/2 answered \(1 answered HTTP 404\)/],
    ['a redirect is an answer', [[301, ''], [200, 'host=web2']], undefined, 'ok', /2\/2 answered;/],
    ['an unexpected body is a failure', [[200, 'host=web1 ok'], [200, 'maintenance page']], 'ok', 'warning', /1\/2 answered \(1 without 'ok' in the body\)/],
    ['a body spanning lines is read whole', [[200, 'line one\nhost=web1\nok']], 'ok', 'ok', /1\/1 answered; backends reached: web1/],
  ];
  for (const [title, answers, expectBody, severity, detail] of STATUS) {
    it(`HTTP answers: ${title}`, () => {
      const c = evaluateCurl({ ...e, expectBody }, out(...answers), answers.length)[0]!;
      assert.equal(c.severity, severity, c.detail);
      assert.match(c.detail, detail);
    });
  }
});
