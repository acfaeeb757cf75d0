import { strict as assert } from 'node:assert';
import { parseInventory, loadInventory } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/errors.js';
import { loadPlaybook } from '../../../src/kinds/registry.js';
import { resolvePlaybookVars } from '../../../src/playbook/vars.js';
import { hostInfo, type HostInfo } from '../../../src/playbook/define.js';
import { haproxyFor, keepalivedFor, lbNodes, serviceTargets, type HaVars } from '../../../src/kinds/haproxy-keepalived/model.js';
import { renderHaproxy } from '../../../src/render/haproxy.js';
import { renderKeepalived } from '../../../src/render/keepalived.js';
import { haproxyDropin } from '../../../src/kinds/haproxy-keepalived/playbook.js';
import type { Inventory } from '../../../src/inventory/model.js';
import { haproxyCheck, keepalivedCheck } from '../../helpers/validate.js';

const ENV = { LBDEPLOY_VRRP_PASS: 'vrrp1234', LBDEPLOY_STATS_PASSWORD: 'stats-secret-1' };

async function resolved(inv: Inventory): Promise<HostInfo[]> {
  const pb = await loadPlaybook('haproxy-keepalived', inv.dir);
  const targeted = inv.hosts.filter((h) => h.groups.includes('lb') || h.groups.includes('ingress'));
  const vars = await resolvePlaybookVars(pb, inv, targeted);
  return inv.hosts.map((h) => ({ ...hostInfo(h), vars: vars.get(h.name) ?? h.vars }));
}

describe('haproxy-keepalived: example inventories render configs the real tools accept', () => {
  for (const file of ['inventory/ingress-proxy-protocol.yaml', 'inventory/apiserver-ha.yaml', 'inventory/lab.yaml']) {
    it(file, async () => {
      const inv = await loadInventory(file, { env: ENV }).catch((e: unknown) => {
        // The lab inventory names the lab's key, which exists only once the lab ran: check it without.
        if (e instanceof InventoryError && /private key/.test(e.message)) return undefined;
        throw e;
      }) ?? await parseInventory(file, (await import('node:fs')).readFileSync(file, 'utf8').replace(/^ *private_key: .*\n/m, ''), { env: ENV });
      const hosts = await resolved(inv);
      const v = hosts.find((h) => h.groups.includes('lb'))!.vars as unknown as HaVars;
      const nodes = lbNodes(hosts, v.lb_group);
      assert.ok(nodes.length >= 2);
      const masters = nodes.map((n) => renderKeepalived(keepalivedFor(n, v, hosts))).filter((t) => /state MASTER/.test(t));
      assert.equal(masters.length, 1, 'exactly one node starts as MASTER');
      for (const n of nodes) {
        const ka = renderKeepalived(keepalivedFor(n, v, hosts));
        const kv = keepalivedCheck(ka);
        assert.ok(kv.ok, `${n.name}: ${kv.output}\n${ka}`);
        if (v.keepalived.unicast) {
          assert.match(ka, new RegExp(`unicast_src_ip ${n.address.replace(/\./g, '\\.')}`));
          for (const peer of nodes.filter((x) => x !== n)) assert.ok(ka.includes(`        ${peer.address}\n`), `${n.name} peers ${peer.name}`);
        }
      }
      const hp = renderHaproxy(haproxyFor(v, hosts));
      const hv = haproxyCheck(hp);
      assert.ok(hv.ok, hv.output + hp);
    });
  }

  it('seed 000: PROXY v2 with the client certificate CN to each ingress NodePort', async () => {
    const inv = await loadInventory('inventory/ingress-proxy-protocol.yaml', { env: ENV });
    const hosts = await resolved(inv);
    const hp = renderHaproxy(haproxyFor(hosts[0]!.vars as unknown as HaVars, hosts));
    assert.ok(hp.includes('    server node-1 10.41.39.195:31498 send-proxy-v2-ssl-cn weight 1 maxconn 10000 check inter 10s rise 2 fall 3\n'), hp);
    assert.ok(hp.includes('    stats auth admin:stats-secret-1\n'));
  });
});

const V6_HOSTS = 'lb1: { address: 198.18.0.11, vars: { addresses: ["2001:2::11"] } }\n      lb2: { address: 198.18.0.12, vars: { addresses: ["2001:2::12"] } }';

describe('haproxy-keepalived: checks before anything connects', () => {
  const base = (vars: string, lbHosts = 'lb1: { address: 198.18.0.11 }\n      lb2: { address: 198.18.0.12 }') => `playbook: haproxy-keepalived
vars:
${vars}
groups:
  lb:
    hosts:
      ${lbHosts}
  web:
    hosts:
      web1: { address: 198.18.0.21 }
`;
  const ka = (instances: string, extra = '') => `  keepalived:\n    interface: eth0\n${extra}    instances:\n${instances}\n  haproxy:\n    services: [{ name: s, port: 80, backend_group: web, backend_port: 80 }]\n`;
  const one = '      - { name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51 }';
  const cases: { what: string; yaml: string; expect: RegExp }[] = [
    { what: 'a duplicate virtual_router_id on one segment', yaml: base(ka(`${one}\n      - { name: VI_2, vip: 198.18.0.101/24, virtual_router_id: 51 }`)),
      expect: /inv\.yaml:7:64: playbook haproxy-keepalived: virtual_router_id 51 is used twice on eth0 \(also by VI_1\)/ },
    { what: 'equal priorities without nopreempt', yaml: base(ka(one), 'lb1: { address: 198.18.0.11, vars: { keepalived_priority: 100 } }\n      lb2: { address: 198.18.0.12, vars: { keepalived_priority: 100 } }'),
      expect: /inv\.yaml:\d+:\d+: .*lb1 and lb2 have the same priority 100 in VI_1 and nopreempt is off/ },
    { what: 'a VIP outside the interface subnet', yaml: base(ka('      - { name: VI_1, vip: 198.19.5.100/24, virtual_router_id: 51 }')),
      expect: /VIP 198\.19\.5\.100\/24 is outside the subnet of lb1 \(198\.18\.0\.11\) on eth0/ },
    { what: 'auth_pass longer than 8 characters', yaml: base(ka('      - { name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51, auth_pass: !secret K8SHA_KA_AUTH }')),
      expect: /inv\.yaml:\d+:\d+: .*auth_pass is 13 characters: keepalived silently uses only the first 8/ },
    { what: 'unicast peers that are not exactly the other LB nodes', yaml: base(ka(one, '    unicast_peers: [198.18.0.12, 198.18.0.99]\n')),
      expect: /unicast_peers must be exactly the other nodes of VI_1: for lb1 that is 198\.18\.0\.12, not 198\.18\.0\.12, 198\.18\.0\.99/ },
    { what: 'verify_body on a service verify reaches over TCP only (an option that would do nothing)',
      yaml: base(ka(one).replace('backend_port: 80 }', 'backend_port: 80, verify_body: ok }')),
      expect: /inv\.yaml:\d+:\d+: .*verify_body of s does nothing: verify opens a TCP connection to this service/ },
    { what: 'vrrp_strict with unicast', yaml: base(ka(one, '    vrrp_strict: true\n')),
      expect: /vrrp_strict cannot be combined with unicast peers/ },
    { what: 'binding the VIP on backups without ip_nonlocal_bind', yaml: base(ka(one) + '  ha_sysctl_nonlocal_bind: 0\n'),
      expect: /haproxy binds the VIP, but backup nodes do not hold it: they need net\.ipv4\.ip_nonlocal_bind=1/ },
    { what: 'an IPv6 VIP on nodes that list no IPv6 address (the subnet check covers IPv6)', yaml: base(ka(`${one}\n      - { name: VI_6, vip: "2001:2::100/64", virtual_router_id: 52 }`)),
      expect: /VIP 2001:2::100\/64 is outside the subnet of lb1 \(198\.18\.0\.11\) on eth0/ },
    { what: 'an IPv6 VIP outside the nodes\' IPv6 subnet', yaml: base(ka('      - { name: VI_6, vip: "2001:2:0:1::100/64", virtual_router_id: 52 }'), V6_HOSTS),
      expect: /VIP 2001:2:0:1::100\/64 is outside the subnet of lb1 \(198\.18\.0\.11, 2001:2::11\) on eth0/ },
    { what: 'auth_pass on an IPv6 instance (VRRPv3 has none; keepalived -t refuses it)', yaml: base(ka('      - { name: VI_6, vip: "2001:2::100/64", virtual_router_id: 52, auth_pass: x }'), V6_HOSTS),
      expect: /inv\.yaml:\d+:\d+: .*VI_6 has an IPv6 VIP: VRRP for IPv6 is version 3, which has no authentication/ },
    { what: 'IPv6 unicast peers that are not exactly the other nodes\' IPv6 addresses', yaml: base(ka('      - { name: VI_6, vip: "2001:2::100/64", virtual_router_id: 52 }', '    unicast_peers: ["2001:2::12", "2001:2::99"]\n'), V6_HOSTS),
      expect: /unicast_peers must be exactly the other nodes of VI_6: for lb1 that is 2001:2::12, not 2001:2::12, 2001:2::99/ },
    { what: 'a sub-second advert_int with VRRP version 2 (whole seconds only)', yaml: base(ka(one, '    advert_int: 0.5\n')),
      expect: /inv\.yaml:\d+:\d+: .*advert_int 0\.5: VRRP version 2 counts whole seconds \(sub-second adverts need vrrp_version 3\)/ },
    { what: 'an advert_int VRRP version 3 cannot send (centiseconds only)', yaml: base(ka(one, '    vrrp_version: 3\n    advert_int: 0.125\n')),
      expect: /advert_int 0\.125: VRRP version 3 counts hundredths of a second/ },
    { what: 'an advert_int over version 3\'s 40.95 s', yaml: base(ka(one, '    vrrp_version: 3\n    advert_int: 41\n')),
      expect: /advert_int 41 is outside 0\.01-40\.95 s for VRRP version 3/ },
    { what: 'auth_pass on an IPv4 instance with vrrp_version 3', yaml: base(ka('      - { name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51, auth_pass: abc }', '    vrrp_version: 3\n    advert_int: 0.1\n')),
      expect: /VI_1: VRRP version 3 has no authentication/ },
    { what: 'peers of a cluster that disagree on the advert interval', yaml: base(ka(one), 'lb1: { address: 198.18.0.11 }\n      lb2: { address: 198.18.0.12, vars: { keepalived: { interface: eth0, vrrp_version: 3, advert_int: 0.1, instances: [{ name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51 }] } } }'),
      expect: /the nodes of VI_1 disagree on VRRP: lb1 has version 2, advert_int 1, lb2 has version 3, advert_int 0\.1/ },
    { what: 'preempt_delay with nopreempt (it would do nothing)', yaml: base(ka('      - { name: VI_1, vip: 198.18.0.100/24, virtual_router_id: 51, nopreempt: true }', '    preempt_delay: 5\n')),
      expect: /VI_1 sets nopreempt, so keepalived\.preempt_delay would do nothing for it/ },
    { what: 'a backend group with no hosts', yaml: base(ka(one).replace('backend_group: web', 'backend_group: webz')),
      expect: /backend_group 'webz' has no hosts/ },
  ];
  for (const c of cases) {
    it(c.what, async () => {
      const inv = await parseInventory('/tmp/lbd/inv.yaml', c.yaml, { env: {} });
      const pb = await loadPlaybook('haproxy-keepalived', inv.dir);
      await assert.rejects(resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => h.groups.includes('lb'))), (e: unknown) => {
        assert.ok(e instanceof InventoryError);
        const text = e.issues.map((i) => `${i.where.replace(/^.*inv\.yaml/, 'inv.yaml')}: ${i.message}`).join('\n');
        assert.match(text, c.expect);
        assert.ok(!text.includes('K8SHA_KA_AUTH'), 'the secret is not in the message');
        return true;
      });
    });
  }
  it('a valid model passes', async () => {
    const inv = await parseInventory('/tmp/lbd/inv.yaml', base(ka(one)), { env: {} });
    const pb = await loadPlaybook('haproxy-keepalived', inv.dir);
    const vars = await resolvePlaybookVars(pb, inv, inv.hosts.filter((h) => h.groups.includes('lb')));
    assert.equal((vars.get('lb1') as unknown as HaVars).haproxy.maxconn, 4096);
  });
});

describe('haproxy-keepalived: dual stack (an IPv4 and an IPv6 VIP)', () => {
  const yaml = (unicast: boolean, bind = 'vip') => `playbook: haproxy-keepalived
vars:
  keepalived:
    interface: eth0
    unicast: ${unicast}
    instances:
      - { name: VI_4, vip: 198.18.0.100/24, virtual_router_id: 51 }
      - { name: VI_6, vip: "2001:2::100/64", virtual_router_id: 52 }
  haproxy:
    services: [{ name: s, port: 80, bind: ${bind}, backend_group: web, backend_port: 80 }]
groups:
  lb:
    hosts:
      ${V6_HOSTS}
  web:
    hosts:
      web1: { address: 198.18.0.21 }
`;
  const model = async (text: string) => {
    const inv = await parseInventory('/tmp/lbd/inv.yaml', text, { env: {} });
    const hosts = await resolved(inv);
    return { hosts, v: hosts.find((h) => h.name === 'lb1')!.vars as unknown as HaVars };
  };

  it('unicast VRRP runs in each VIP\'s family: IPv6 source and peers for the IPv6 instance; keepalived -t accepts it', async () => {
    const { hosts, v } = await model(yaml(true));
    const ka = renderKeepalived(keepalivedFor(hosts.find((h) => h.name === 'lb1')!, v, hosts));
    const block = (name: string) => ka.slice(ka.indexOf(`vrrp_instance ${name}`)).split(/\n}\n/)[0]!;
    assert.match(block('VI_4'), /unicast_src_ip 198\.18\.0\.11\n[\s\S]*unicast_peer \{\n\s+198\.18\.0\.12\n/);
    assert.match(block('VI_6'), /unicast_src_ip 2001:2::11\n[\s\S]*unicast_peer \{\n\s+2001:2::12\n/);
    const kv = keepalivedCheck(ka);
    assert.ok(kv.ok, kv.output + ka);
  });

  const modes: [string, string, RegExp[], RegExp[]][] = [
    ['default (VRRP v2, 1 s adverts)', '', [/^ {4}advert_int 1$/m, /^track_file haproxy_down \{\n {4}file "\/run\/lbdeploy-haproxy\.down"\n {4}weight 0\n\}/m, / {4}track_file \{\n {8}lbdeploy_drain\n {8}haproxy_down\n {4}\}/], [/vrrp_version/, /preempt_delay/, /track_process/]],
    ['fast mode (VRRP v3, 0.1 s adverts, preempt_delay)', '    vrrp_version: 3\n    advert_int: 0.1\n    preempt_delay: 2\n', [/^ {4}vrrp_version 3$/m, /^ {4}advert_int 0\.1$/m, /^ {4}preempt_delay 2$/m], []],
    ['track_process off', '    track_process: false\n', [/^ {4}advert_int 1$/m], [/track_process/, /haproxy_down/]],
  ];
  it('haproxy\'s drop-in writes the file keepalived watches: 1 when haproxy stops or dies, 0 once it serves (and nothing when track_process is off)', async () => {
    const { hosts, v } = await model(yaml(true));
    const ka = renderKeepalived(keepalivedFor(hosts.find((h) => h.name === 'lb1')!, v, hosts));
    const watched = /^track_file haproxy_down \{\n {4}file "([^"]+)"/m.exec(ka)?.[1];
    assert.ok(watched, ka);
    const dropin = haproxyDropin(true);
    assert.match(dropin, /^\[Service\]\nRestartSec=0\n/m);
    assert.equal(/^ExecStopPost=\/bin\/sh -c 'echo 1 > (\S+)'$/m.exec(dropin)?.[1], watched, dropin);
    assert.equal(/^ExecStartPost=\/bin\/sh -c 'echo 0 > (\S+)'$/m.exec(dropin)?.[1], watched, dropin);
    assert.doesNotMatch(haproxyDropin(false), /Exec|lbdeploy-haproxy\.down/);
  });
  for (const [what, extra, present, absent] of modes) {
    it(`${what}: haproxy's service tracked (FAULT), the drain file, GARP/NA tuning; keepalived -t accepts it`, async () => {
      const { hosts, v } = await model(yaml(true).replace('    instances:', `${extra}    instances:`));
      const ka = renderKeepalived(keepalivedFor(hosts.find((h) => h.name === 'lb1')!, v, hosts));
      for (const re of present) assert.match(ka, re);
      for (const re of absent) assert.doesNotMatch(ka, re);
      assert.match(ka, /^track_file lbdeploy_drain \{\n {4}file "\/etc\/keepalived\/lbdeploy-drain"\n {4}weight -253\n {4}init_file 0\n\}/m);
      for (const line of ['vrrp_garp_master_delay 1', 'vrrp_garp_master_repeat 3', 'vrrp_garp_master_refresh 60', 'vrrp_garp_lower_prio_repeat 2', 'vrrp_higher_prio_send_advert']) assert.ok(ka.includes(`\n    ${line}\n`), line);
      // Both instances (IPv4 and IPv6) follow the drain file (and, unless turned off, haproxy_down).
      assert.equal(ka.match(/ {4}track_file \{\n {8}lbdeploy_drain\n/g)?.length, 2);
      const kv = keepalivedCheck(ka);
      assert.ok(kv.ok, kv.output + ka);
    });
  }

  const binds: [string, string[], string[]][] = [
    // bind vip: each VIP; verify goes through each.
    ['vip', ['    bind 198.18.0.100:80', '    bind [2001:2::100]:80'], ['198.18.0.100', '[2001:2::100]']],
    // bind any: `*` is IPv4 only in haproxy, so [::] v6only beside it.
    ['any', ['    bind *:80', '    bind [::]:80 v6only'], ['198.18.0.100', '[2001:2::100]']],
    ['"2001:2::100"', ['    bind [2001:2::100]:80'], ['[2001:2::100]']],
  ];
  it('the deployment: one holder check per VIP, each service checked once on the nodes and proven through each VIP in its mode', async () => {
    const { deploymentsOf } = await import('../../../src/kinds/deployments.js');
    const { kindPlaybook } = await import('../../../src/index.js');
    const text = yaml(false).replace('backend_port: 80 }]', 'backend_port: 80, verify_http: true }, { name: t, port: 81, backend_group: web, backend_port: 80 }]');
    const inv = await parseInventory('/tmp/lbd/inv.yaml', text, { env: {} });
    const [d] = await deploymentsOf(inv, [kindPlaybook('haproxy-keepalived')]);
    assert.deepEqual(d!.vips.map((x) => `${x.name} ${x.address}`), ['VI_4 198.18.0.100', 'VI_6 2001:2::100']);
    assert.deepEqual(d!.endToEnd.map((e) => `${e.target.name} ${e.target.vip}:${e.target.port} ${e.mode}`), [
      's 198.18.0.100:80 http', 's [2001:2::100]:80 http', 't 198.18.0.100:81 tcp', 't [2001:2::100]:81 tcp']);
    // The drill matrix: everyday faults by default, the rest with --scenario all; the backend drill on the first HTTP service's first server.
    assert.deepEqual(d!.drills.map((x) => `${x.scenario}${x.matrix ? '' : ' (default)'}${x.planned ? ' planned' : ''}`), [
      'backend-down', 'stop-keepalived (default)', 'stop-haproxy (default)', 'kill-haproxy (default)', 'link-down', 'kill-keepalived', 'hang-keepalived', 'block-vrrp',
      'reload-haproxy planned', 'restart-keepalived planned', 'drain planned']);
    assert.equal(d!.drills[0]!.target?.name, 'web1');
    assert.match(d!.drills[0]!.stop.text, /ip route add prohibit \$a/);
    assert.deepEqual(d!.vrrp?.instances.map((i) => `${i.name} ${i.vrid} ${i.vip} ${i.v6 ? 'v6' : 'v4'}`), ['VI_4 51 198.18.0.100 v4', 'VI_6 52 2001:2::100 v6']);
    const probes = new Map(['lb1', 'lb2'].map((n) => [n, new Map()]));
    const backends = d!.evaluate(probes as never).filter((c) => c.check === 'backends').map((c) => c.target);
    assert.deepEqual(backends, ['lb1 s', 'lb1 t', 'lb2 s', 'lb2 t']);
  });

  it('what verify asks each service: HTTPS with its CA, name and path; HTTP with an expected body; else TCP', async () => {
    const { deploymentsOf } = await import('../../../src/kinds/deployments.js');
    const { kindPlaybook } = await import('../../../src/index.js');
    const text = yaml(false).replace('backend_port: 80 }]', 'backend_port: 80, verify_http: true, verify_body: ok }, '
      + '{ name: api, port: 6443, backend_group: web, backend_port: 6443, verify_tls: { ca_file: /etc/kubernetes/pki/ca.crt, server_name: kubernetes }, verify_path: /readyz }, '
      + '{ name: t, port: 81, backend_group: web, backend_port: 80 }]');
    const inv = await parseInventory('/tmp/lbd/inv.yaml', text, { env: {} });
    const [d] = await deploymentsOf(inv, [kindPlaybook('haproxy-keepalived')]);
    const v4 = d!.endToEnd.filter((e) => !e.target.vip.includes(':')).map(({ target, ...rest }) => ({ name: target.name, ...rest }));
    assert.deepEqual(v4, [
      { name: 's', mode: 'http', path: '/', expectBody: 'ok' },
      { name: 'api', mode: 'https', path: '/readyz', expectBody: undefined, caFile: '/etc/kubernetes/pki/ca.crt', serverName: 'kubernetes' },
      { name: 't', mode: 'tcp' },
    ]);
  });

  for (const [bind, lines, targets] of binds) {
    it(`bind ${bind}: haproxy listens on ${lines.map((l) => l.trim().slice(5)).join(' and ')}; verify goes through ${targets.join(' and ')}; haproxy -c accepts it`, async () => {
      const { hosts, v } = await model(yaml(false, bind));
      const hp = renderHaproxy(haproxyFor(v, hosts));
      assert.deepEqual(hp.split('\n').filter((l) => /^ {4}bind /.test(l) && /:80\b/.test(l)), lines);
      assert.deepEqual(serviceTargets(v, hosts).map((t) => t.vip), targets);
      const hv = haproxyCheck(hp);
      assert.ok(hv.ok, hv.output + hp);
    });
  }
});
