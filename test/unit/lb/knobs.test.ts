/**
 * The knobs production configs use, typed in the vars schema, rendered, and accepted by the real
 * haproxy -c and keepalived -t (seed 001's `default-server inter 10s downinter 5s rise 2 fall 2
 * slowstart 60s maxconn 250 maxqueue 256 weight 100`, `option tcp-check`, `tcp-request
 * inspect-delay 5s`, mcast_src_ip); raw `extra` lines pass through the same validators, and a
 * raw line the validator rejects is rejected (the file would not go live); lines that would leave
 * their section, and options that would do nothing, are refused before anything connects.
 */
import { strict as assert } from 'node:assert';
import { parseInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { loadPlaybook } from '../../../src/kinds/registry.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { hostInfo, type HostInfo } from '../../../src/playbook/define.js';
import { haproxyFor, keepalivedFor, type HaVars } from '../../../src/kinds/haproxy-keepalived/model.js';
import { renderHaproxy } from '../../../src/render/haproxy.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import { haproxyCheck, keepalivedCheck } from '../../helpers/validate.js';

const inventory = (keepalived: string, haproxy: string, service: string) => `playbook: haproxy-keepalived
vars:
  keepalived:
    interface: eth0
    instances: [{ name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51 }]
${keepalived}
  haproxy:
${haproxy}
    services:
      - { name: api, port: 6443, backend_group: web, backend_port: 6443, ${service} }
groups:
  lb:
    hosts:
      lb1: { address: 198.18.0.11 }
      lb2: { address: 198.18.0.12 }
  web:
    hosts:
      web1: { address: 198.18.0.21 }
`;

async function rendered(text: string): Promise<{ haproxy: string; keepalived: string }> {
  const inv = await parseInventory('/tmp/lbd/knobs.yaml', text, { env: {} });
  const pb = await loadPlaybook('haproxy-keepalived', inv.dir);
  const vars = await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => h.groups.includes('lb')));
  const hosts: HostInfo[] = inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
  const v = hosts[0]!.vars as unknown as HaVars;
  return { haproxy: renderHaproxy(haproxyFor(v, hosts)), keepalived: renderKeepalived(keepalivedFor(hosts[0]!, v, hosts)) };
}

describe('knobs: typed, rendered, and accepted by the real haproxy and keepalived', () => {
  it('seed 001\'s haproxy server options, tcp-check with an exchange, inspect-delay, the stats page, raw lines', async () => {
    const { haproxy } = await rendered(inventory('', `    stats: { port: 9000, password: s3cret, uri: /haproxy, refresh: 5s, admin: true }
    extra_global: ["tune.bufsize 32768"]
    extra_defaults: ["timeout queue 30s"]`,
    `check_inter: 10s, downinter: 5s, check_rise: 2, check_fall: 2, slowstart: 60s, maxconn: 250, maxqueue: 256, weight: 100, tcp_check: { send: "PING\\r\\n", expect: "+PONG" }, inspect_delay: 5s, extra: ["option tcplog"]`));
    assert.match(haproxy, /^ {4}server web1 198\.18\.0\.21:6443 weight 100 maxconn 250 maxqueue 256 slowstart 60s check inter 10s downinter 5s rise 2 fall 2$/m);
    assert.match(haproxy, /^ {4}tcp-request inspect-delay 5s\n {4}option tcp-check\n {4}tcp-check connect\n {4}tcp-check send "PING\\r\\n"\n {4}tcp-check expect string "\+PONG"\n {4}option tcplog$/m);
    assert.match(haproxy, /^ {4}stats uri \/haproxy\n {4}stats refresh 5s$/m);
    assert.match(haproxy, /^ {4}stats admin if TRUE$/m);
    assert.match(haproxy, /^ {4}tune\.bufsize 32768$/m);
    assert.match(haproxy, /^ {4}timeout queue 30s$/m);
    const v = haproxyCheck(haproxy);
    assert.ok(v.ok, v.output + haproxy);
  });

  it('seed 001 in front of kube-apiserver: an HTTPS check of /readyz on every server, accepted by haproxy -c', async () => {
    const { haproxy } = await rendered(inventory('', '', 'check_inter: 2s, check_fall: 2, http_check: { path: /readyz, tls: true }'));
    assert.match(haproxy, /^ {4}option httpchk GET \/readyz\n {4}http-check expect status 200\n {4}server web1 198\.18\.0\.21:6443 check inter 2s rise 2 fall 2 check-ssl verify none$/m);
    const plain = (await rendered(inventory('', '', 'http_check: { path: /healthz, expect_status: 204 }'))).haproxy;
    assert.match(plain, /^ {4}http-check expect status 204$/m);
    assert.doesNotMatch(plain, /check-ssl/, 'without tls the check speaks plain HTTP');
    for (const text of [haproxy, plain]) {
      const v = haproxyCheck(text);
      assert.ok(v.ok, v.output + text);
    }
  });

  it('a raw haproxy line haproxy rejects is rejected by haproxy -c (what the node runs before the file goes live)', async () => {
    const { haproxy } = await rendered(inventory('', '', 'extra: ["tcp-check expct string nonsense"]'));
    assert.equal(haproxyCheck(haproxy).ok, false);
  });

  it('keepalived: notify commands, SMTP alerts, multicast from the node\'s address, GARP intervals, raw lines', async () => {
    const { keepalived } = await rendered(inventory(`    unicast: false
    mcast_src_ip: true
    notify: { master: /bin/true, fault: /bin/true }
    smtp: { server: 198.18.0.25 25, from: lb@example.org, to: [ops@example.org, oncall@example.org], connect_timeout: 30 }
    garp: { interval: 0.001, gna_interval: 0.001 }
    extra_global_defs: ["vrrp_no_swap"]
    extra_instance: ["track_interface { eth0 }"]`, '', 'check_inter: 2s'));
    assert.match(keepalived, /^ {4}mcast_src_ip 198\.18\.0\.11$/m);
    assert.doesNotMatch(keepalived, /unicast_src_ip/);
    assert.match(keepalived, /^ {4}notify_master "\/bin\/true"\n {4}notify_fault "\/bin\/true"\n {4}smtp_alert\n {4}track_interface \{ eth0 \}$/m);
    assert.match(keepalived, /^ {4}notification_email \{\n {8}ops@example\.org\n {8}oncall@example\.org\n {4}\}\n {4}notification_email_from lb@example\.org\n {4}smtp_server 198\.18\.0\.25 25\n {4}smtp_connect_timeout 30\n {4}vrrp_no_swap\n\}$/m);
    assert.match(keepalived, /^ {4}vrrp_garp_interval 0\.001\n {4}vrrp_gna_interval 0\.001$/m);
    const v = keepalivedCheck(keepalived.replace(/track_interface \{ eth0 \}/, 'track_interface { lo }'));
    assert.ok(v.ok, v.output + keepalived);
  });

  it('a raw keepalived line keepalived rejects is rejected by keepalived -t', async () => {
    const { keepalived } = await rendered(inventory('    extra_instance: ["priority banana"]', '', 'check_inter: 2s'));
    assert.equal(keepalivedCheck(keepalived).ok, false);
  });

  const REFUSED: [title: string, keepalived: string, haproxy: string, service: string, message: RegExp][] = [
    ['mcast_src_ip with unicast VRRP (it would do nothing)', '    mcast_src_ip: true', '', 'check_inter: 2s', /mcast_src_ip does nothing with unicast VRRP/],
    ['a raw keepalived line that opens a block it does not end', '    extra_instance: ["track_interface {"]', '', 'check_inter: 2s', /'track_interface \{' opens or closes a block it does not end/],
    ['a raw haproxy line that starts another section', '', '    extra_defaults: ["backend evil"]', 'check_inter: 2s', /'backend evil' starts a new haproxy section \(backend\)/],
    ['a raw line with a newline in it', '', '    extra_global: ["a\\nb"]', 'check_inter: 2s', /must match pattern/],
    ['tcp_check and http_check on one service (haproxy would use only the last)', '', '', 'tcp_check: {}, http_check: { path: /readyz }', /has both tcp_check and http_check/],
    ['an http_check path that is not a path', '', '', 'http_check: { path: readyz }', /must match pattern/],
    ['a notify command that is not an absolute path', '    notify: { master: notify.sh }', '', 'check_inter: 2s', /must match pattern "\^\/"/],
  ];
  for (const [title, keepalived, haproxy, service, message] of REFUSED) {
    it(`refused before anything connects: ${title}`, async () => {
      // resolvePlaybookVars runs the vars schema and the kind's plan-time checks, as `up` and `plan` do before connecting.
      await assert.rejects(rendered(inventory(keepalived, haproxy, service)), (e: unknown) => {
        assert.ok(e instanceof InventoryError, String(e));
        assert.ok(e.issues.some((i) => message.test(i.message) && /knobs\.yaml:\d+:\d+$/.test(i.where)), JSON.stringify(e.issues));
        return true;
      });
    });
  }
});
