/** Vars of the haproxy-keepalived playbook (JSON Schema; ajv fills the defaults). */
import { VRRP_VARS_SCHEMA } from '../../lb-blocks/vrrp-timers.js';

const duration = { type: 'string', pattern: '^[0-9]+(us|ms|s|m|h|d)?$' } as const;
/** Raw config lines: one line each. */
const LINES = { type: 'array', items: { type: 'string', minLength: 1, pattern: '^[^\\n\\r]*$' } } as const;

export const haVarsSchema = {
  type: 'object',
  properties: {
    lb_group: { type: 'string', default: 'lb', description: 'the group of load-balancer hosts' },
    keepalived: {
      type: 'object',
      additionalProperties: false,
      required: ['interface', 'instances'],
      properties: {
        interface: { type: 'string', minLength: 1, description: 'the interface that carries the VIPs (eno1, eth0...)' },
        ...VRRP_VARS_SCHEMA,
        preempt_delay: { type: 'number', minimum: 0, maximum: 1000, description: 'seconds a recovered higher-priority node waits, past the advert timeout, before it takes the VIP back' },
        track_process: { type: 'boolean', default: true, description: 'follow haproxy\'s service: systemd writes 1 to /run/lbdeploy-haproxy.down the moment haproxy stops or dies and 0 once it serves again, and keepalived (track_file, weight 0) puts the node in FAULT while it is 1, so a backup takes over after its skew time. The name is kept from when keepalived\'s vrrp_track_process did this; that miscounts haproxy after a reload and is no longer used' },
        unicast: { type: 'boolean', default: true, description: 'unicast VRRP to the other LB nodes (multicast when false)' },
        unicast_peers: { type: 'array', items: { type: 'string' }, description: 'defaults to the other LB nodes; if given, must be exactly them' },
        vrrp_strict: { type: 'boolean', default: false },
        check_interval: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'seconds between haproxy checks' },
        check_fall: { type: 'integer', minimum: 1, default: 2 },
        check_rise: { type: 'integer', minimum: 1, default: 2 },
        check_weight: { type: 'integer', minimum: -253, maximum: 253, description: 'priority change while haproxy is down (default: enough to lose the VIP)' },
        notify: {
          type: 'object', additionalProperties: false,
          description: 'commands keepalived runs when an instance enters a state (notify_master, notify_backup, notify_fault, notify_stop), beside lbdeploy\'s own state recorder. Absolute paths, root-owned and not writable by others (enable_script_security)',
          properties: Object.fromEntries(['master', 'backup', 'fault', 'stop'].map((k) => [k, { type: 'string', pattern: '^/', description: `run on entering ${k.toUpperCase()}` }])),
        },
        smtp: {
          type: 'object', additionalProperties: false, required: ['server', 'from', 'to'],
          description: 'e-mail alerts on every state change of every instance (smtp_alert)',
          properties: {
            server: { type: 'string', pattern: '^[^\\s]+( [0-9]+)?$', description: 'the SMTP relay: address or name, optionally a space and the port' },
            from: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
            to: { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' } },
            connect_timeout: { type: 'integer', minimum: 1, maximum: 600, description: 'seconds' },
          },
        },
        mcast_src_ip: { type: 'boolean', default: false, description: 'multicast VRRP (unicast: false) from the node\'s own address in the VIP\'s family' },
        extra_global_defs: { ...LINES, description: 'raw lines at the end of global_defs; keepalived -t checks them on the node before the file is replaced' },
        extra_instance: { ...LINES, description: 'raw lines at the end of every vrrp_instance; keepalived -t checks them on the node before the file is replaced' },
        instances: {
          type: 'array', minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'vip', 'virtual_router_id'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
              vip: { type: 'string', pattern: '^[0-9a-fA-F.:]+/[0-9]{1,3}$', description: 'address/prefix, e.g. 198.18.0.100/24' },
              virtual_router_id: { type: 'integer', minimum: 1, maximum: 255 },
              auth_pass: { description: 'VRRP PASS authentication (at most 8 characters)' },
              nopreempt: { type: 'boolean', default: false },
            },
          },
        },
      },
    },
    haproxy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        maxconn: { type: 'integer', minimum: 1, default: 4096, description: 'haproxy needs about 2 file descriptors per connection: keep 2*maxconn under the service\'s LimitNOFILE' },
        timeout_connect: { ...duration, default: '5s' },
        timeout_client: { ...duration, default: '10m' },
        timeout_server: { ...duration, default: '10m' },
        monitor: {
          type: 'object', additionalProperties: false, default: { port: 8405, uri: '/monitor' },
          properties: { port: { type: 'integer', minimum: 1, maximum: 65535 }, uri: { type: 'string', pattern: '^/' } },
        },
        stats: {
          type: 'object', additionalProperties: false, required: ['port', 'password'],
          properties: {
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            bind: { type: 'string', default: '127.0.0.1' },
            user: { type: 'string', default: 'admin' },
            password: { description: 'a secret: !secret env:NAME' },
            uri: { type: 'string', pattern: '^/', default: '/stats' },
            refresh: { ...duration, default: '10s', description: 'how often the page reloads itself' },
            admin: { type: 'boolean', default: false, description: 'the page can drain and disable servers (stats admin): only behind a trusted bind' },
          },
        },
        extra_global: { ...LINES, description: 'raw lines at the end of the global section; haproxy -c checks them on the node before the file is replaced' },
        extra_defaults: { ...LINES, description: 'raw lines at the end of the defaults section; haproxy -c checks them' },
        services: {
          type: 'array', default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'port', 'backend_port'],
            properties: {
              name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              bind: { type: 'string', default: 'vip', description: '`vip` (every instance\'s VIP), `any` (* and, with an IPv6 VIP, [::] beside it), or an address' },
              backend_group: { type: 'string', description: 'servers are the hosts of this group' },
              servers: {
                type: 'array',
                items: { type: 'object', additionalProperties: false, required: ['name', 'address'], properties: { name: { type: 'string' }, address: { type: 'string' } } },
              },
              backend_port: { type: 'integer', minimum: 1, maximum: 65535 },
              send_proxy: { enum: ['v1', 'v2', 'v2-ssl', 'v2-ssl-cn'] },
              balance: { enum: ['roundrobin', 'leastconn', 'source', 'first'], default: 'roundrobin' },
              check_inter: { ...duration, default: '2s' },
              check_rise: { type: 'integer', minimum: 1, default: 2 },
              check_fall: { type: 'integer', minimum: 1, default: 3 },
              maxconn: { type: 'integer', minimum: 1 },
              weight: { type: 'integer', minimum: 0, maximum: 256 },
              maxqueue: { type: 'integer', minimum: 0, description: 'requests queued per server beyond maxconn before they go elsewhere' },
              slowstart: { ...duration, description: 'a server back from DOWN ramps its weight up over this time' },
              downinter: { ...duration, description: 'check interval while a server is DOWN' },
              tcp_check: {
                type: 'object', additionalProperties: false,
                description: 'option tcp-check; with send/expect, an exchange the server must answer (e.g. send "PING\\r\\n", expect "+PONG")',
                properties: { send: { type: 'string', minLength: 1 }, expect: { type: 'string', minLength: 1 } },
              },
              http_check: {
                type: 'object', additionalProperties: false, required: ['path'],
                description: 'option httpchk: each server is healthy while GET path answers the expected status; with tls, the check speaks TLS (a kube-apiserver: path /readyz, tls true)',
                properties: {
                  path: { type: 'string', pattern: '^/[\\x21-\\x7e]*$' },
                  tls: { type: 'boolean', default: false, description: 'check-ssl: the check connects with TLS (the server certificate is not verified by the check)' },
                  expect_status: { type: 'integer', minimum: 100, maximum: 599, default: 200 },
                },
              },
              inspect_delay: { ...duration, description: 'tcp-request inspect-delay: how long to wait for the first bytes' },
              extra: { ...LINES, description: 'raw lines at the end of the service\'s listen section; haproxy -c checks them on the node before the file is replaced' },
              verify_http: { type: 'boolean', default: false, description: '`verify` sends HTTP requests through the VIP (backends answer HTTP); an answer of 400 or more is a failure. Else it opens a TCP connection' },
              verify_tls: {
                type: 'object', additionalProperties: false,
                description: '`verify` sends HTTPS requests through the VIP, the certificate checked (a TLS backend such as kube-apiserver)',
                properties: {
                  ca_file: { type: 'string', minLength: 1, description: 'the CA bundle on the verify_from host the certificate must chain to (default: its system CAs)' },
                  server_name: { type: 'string', minLength: 1, description: 'the name the certificate carries, sent as SNI (default: the VIP)' },
                },
              },
              verify_path: { type: 'string', pattern: '^/', default: '/', description: 'the path verify asks over HTTP(S), e.g. /readyz' },
              verify_body: { type: 'string', minLength: 1, description: 'every answer must contain this (else it is a failure)' },
            },
          },
        },
      },
    },
    ingress: {
      type: 'object', additionalProperties: false, default: {},
      description: 'nginx on the hosts of group `ingress`: accept the PROXY protocol from the LBs',
      properties: {
        listen: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 65535 }, default: [8081] },
        upstream: { type: 'string' },
      },
    },
    keepalived_priority: { type: 'integer', minimum: 1, maximum: 254, description: 'host var; default: by position in the group, highest first' },
    verify_from: { type: 'string', description: 'a non-LB inventory host to curl the VIPs from' },
    ha_sysctl_nonlocal_bind: { enum: [0, 1], default: 1, description: 'net.ipv4.ip_nonlocal_bind (and net.ipv6.ip_nonlocal_bind with an IPv6 VIP) on LB nodes (needed to bind a VIP a node does not hold)' },
  },
  required: ['keepalived'],
} as const;
