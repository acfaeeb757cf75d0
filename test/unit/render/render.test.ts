import { strict as assert } from 'node:assert';
import { renderHaproxy, type HaproxyConfig } from '../../../src/render/haproxy.js';
import { renderKeepalived, type KeepalivedConfig } from '../../../src/render/keepalived.js';
import { nginxSnippetValidate, renderNginxProxyProtocol } from '../../../src/render/nginx.js';
import { quote, raw, type ShellCommand } from '../../../src/connection/shell.js';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '../../../src/inventory/secret.js';
import { haproxyCheck, keepalivedCheck, nginxSnippetCheck } from '../../helpers/validate.js';

const KA_SEED_001: KeepalivedConfig = {
  global: { routerId: 'LVS_DEVEL', scriptUser: 'root', enableScriptSecurity: true },
  scripts: [{ name: 'chk_apiserver', script: '/etc/keepalived/check_apiserver.sh', interval: 5, weight: -5, fall: 2, rise: 1 }],
  instances: [{
    name: 'VI_1', state: 'MASTER', interface: 'ens33', virtualRouterId: 51, priority: 100, advertInt: 2,
    authentication: { type: 'PASS', pass: new Secret('K8SHA_KA', 'inline') }, unicastSrcIp: '172.31.0.10', unicastPeers: ['172.31.0.11'],
    virtualAddresses: [{ address: '172.31.0.100' }], trackScripts: ['chk_apiserver'],
  }],
};

const KA_EXPECTED = `! Managed by lbdeploy: changes here are overwritten.
global_defs {
    router_id LVS_DEVEL
    script_user root
    enable_script_security
}

vrrp_script chk_apiserver {
    script "/etc/keepalived/check_apiserver.sh"
    interval 5
    weight -5
    fall 2
    rise 1
}

vrrp_instance VI_1 {
    state MASTER
    interface ens33
    virtual_router_id 51
    priority 100
    advert_int 2
    authentication {
        auth_type PASS
        auth_pass K8SHA_KA
    }
    unicast_src_ip 172.31.0.10
    unicast_peer {
        172.31.0.11
    }
    virtual_ipaddress {
        172.31.0.100
    }
    track_script {
        chk_apiserver
    }
}
`;

const KA_MULTI: KeepalivedConfig = {
  global: { routerId: 'lb2', vrrpSkipCheckAdvAddr: true },
  scripts: [],
  instances: [
    { name: 'VI_a', state: 'BACKUP', interface: 'eth0', virtualRouterId: 51, priority: 90, advertInt: 1, nopreempt: true, virtualAddresses: [{ address: '198.18.0.100/24', dev: 'eth0' }] },
    { name: 'VI_b', state: 'BACKUP', interface: 'eth0', virtualRouterId: 52, priority: 90, advertInt: 1, virtualAddresses: [{ address: '198.18.0.101/24', dev: 'eth0', label: 'eth0:vip' }] },
  ],
};

const HA_SEED_000: HaproxyConfig = {
  global: { maxconn: 10000, statsSocket: '/run/haproxy/admin.sock', log: '/dev/log local0' },
  defaults: { timeoutConnect: '5000', timeoutClient: '10m', timeoutServer: '10m' },
  monitor: { bind: '*:8405', uri: '/monitor' },
  stats: { bind: '0.0.0.0:16688', uri: '/status', user: 'admin', password: new Secret('s3cret-stats', 'inline'), admin: true },
  listens: [{
    name: 'sase-service-nginx', binds: ['*:9443'], balance: 'roundrobin',
    servers: ['195', '196', '197'].map((n, i) => ({ name: `nginx-0${i + 1}`, address: `10.41.39.${n}`, port: 31498, sendProxy: 'v2-ssl-cn' as const, weight: 1, maxconn: 10000, check: { inter: '10s' } })),
  }],
};

describe('renderers: model -> text, accepted by the real tools', () => {
  it('keepalived.conf for seed 001 (script, unicast, authentication)', () => {
    const text = renderKeepalived(KA_SEED_001);
    assert.equal(text, KA_EXPECTED);
    const v = keepalivedCheck(text);
    assert.ok(v.ok, v.output);
  });

  it('keepalived.conf with several instances, nopreempt, dev and label', () => {
    const text = renderKeepalived(KA_MULTI);
    assert.match(text, /vrrp_instance VI_a \{\n    state BACKUP\n(.*\n)*    nopreempt\n/);
    assert.match(text, /        198\.18\.0\.101\/24 dev eth0 label eth0:vip\n/);
    assert.equal((text.match(/vrrp_instance/g) ?? []).length, 2);
    const v = keepalivedCheck(text);
    assert.ok(v.ok, v.output);
  });

  it('keepalived -t rejects what keepalived rejects (the check is real)', () => {
    const bad = renderKeepalived({ ...KA_MULTI, instances: [{ ...KA_MULTI.instances[0]!, virtualRouterId: 300 }] });
    const v = keepalivedCheck(bad);
    assert.equal(v.ok, false);
    assert.match(v.output, /300/);
  });

  it('haproxy.cfg for seed 000 (send-proxy-v2-ssl-cn, stats with a secret password, monitor-uri)', () => {
    const text = renderHaproxy(HA_SEED_000);
    for (const line of [
      '    stats socket /run/haproxy/admin.sock mode 600 level admin expose-fd listeners',
      '    maxconn 10000',
      'frontend monitor\n    bind *:8405\n    mode http\n    option dontlog-normal\n    monitor-uri /monitor',
      '    stats auth admin:s3cret-stats',
      'listen sase-service-nginx\n    bind *:9443\n    mode tcp\n    balance roundrobin',
      '    server nginx-01 10.41.39.195:31498 send-proxy-v2-ssl-cn weight 1 maxconn 10000 check inter 10s',
    ]) assert.ok(text.includes(line), `missing:\n${line}\nin:\n${text}`);
    const v = haproxyCheck(text);
    assert.ok(v.ok, v.output);
  });

  const proxies: [string | undefined, string][] = [[undefined, ''], ['v1', ' send-proxy'], ['v2', ' send-proxy-v2'], ['v2-ssl', ' send-proxy-v2-ssl']];
  for (const [mode, text] of proxies) {
    it(`haproxy server line with send_proxy ${mode ?? 'off'}, IPv6 address, no check`, () => {
      const cfg = renderHaproxy({ ...HA_SEED_000, stats: undefined, listens: [{ name: 'x', binds: ['[::]:80'], servers: [{ name: 's1', address: 'fd00::1', port: 80, sendProxy: mode as never, check: false }] }] });
      assert.ok(cfg.includes(`    server s1 [fd00::1]:80${text}\n`), cfg);
      const v = haproxyCheck(cfg);
      assert.ok(v.ok, v.output);
    });
  }

  it('haproxy -c rejects what haproxy rejects (the check is real)', () => {
    const v = haproxyCheck(renderHaproxy({ ...HA_SEED_000, listens: [{ name: 'x', binds: ['*:80'], balance: 'nonsense' as never, servers: [] }] }));
    assert.equal(v.ok, false);
  });

  it('the nginx PROXY-protocol site: trusted LBs only, X-Real-IP from the header', () => {
    const text = renderNginxProxyProtocol({ listen: [443, 8081], trustedProxies: ['10.41.39.201', '10.41.39.206'], upstream: 'http://127.0.0.1:8080' });
    assert.equal(text, `# Managed by lbdeploy: accepts the PROXY protocol from the load balancers (seed 000).
server {
    listen 443 proxy_protocol;
    listen 8081 proxy_protocol;
    set_real_ip_from 10.41.39.201;
    set_real_ip_from 10.41.39.206;
    real_ip_header proxy_protocol;

    location / {
        proxy_set_header X-Real-IP $proxy_protocol_addr;
        proxy_set_header X-Forwarded-For $proxy_protocol_addr;
        proxy_set_header Host $http_host;
        proxy_pass http://127.0.0.1:8080;
    }
}
`);
    const v = nginxSnippetCheck(text);
    assert.ok(v.ok, v.output);
    assert.ok(nginxSnippetCheck(renderNginxProxyProtocol({ listen: [8081], trustedProxies: ['198.18.0.11'] })).ok);
    assert.equal(nginxSnippetCheck('server { listen 80 proxy_protocoll; }').ok, false);
  });
});

describe('validate commands run for real on a temp file (the shell the file operation builds)', () => {
  const run = (validate: (tmp: ShellCommand) => ShellCommand, text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'lbd-validate-cmd-'));
    try {
      const file = join(dir, 'candidate.conf');
      writeFileSync(file, text);
      return spawnSync('sh', ['-c', `tmp=${quote(file)}; ${validate(raw('"$tmp"')).text}`], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it('nginx: the PROXY-protocol site passes, a broken one fails', () => {
    const site = renderNginxProxyProtocol({ listen: [8081], trustedProxies: ['198.18.0.11'] });
    const good = run(nginxSnippetValidate, site);
    assert.equal(good.status, 0, good.stderr);
    assert.notEqual(run(nginxSnippetValidate, 'server { listen 8081 proxy_protocol; bogus_directive on; }\n').status, 0);
  });
});
