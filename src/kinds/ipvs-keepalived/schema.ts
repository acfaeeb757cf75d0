/** JSON Schema for the `alive` vars (seed 002, the software datacenter LB), with the seed's defaults. */
import type { AliveVars } from './model.js';
import { VRRP_VARS_SCHEMA } from '../../lb-blocks/vrrp-timers.js';

/** Seed 002 step 1, as written; modules this kernel merged away are skipped with a note. */
export const IPVS_DIRECTOR_MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack_ipv4', 'nf_conntrack', 'ip6t_MASQUERADE', 'nf_nat_masquerade_ipv6',
  'ip6table_nat', 'nf_conntrack_ipv6', 'nf_defrag_ipv6', 'nf_nat_ipv6', 'ip6_tables'];

/** Seed 002 step 2. */
export const IPVS_DIRECTOR_SYSCTL = {
  'net.ipv4.ip_forward': 1, 'net.ipv4.conf.all.arp_accept': 1, 'net.ipv4.vs.conntrack': 1, 'net.ipv4.vs.conn_reuse_mode': 0,
  'net.ipv4.vs.expire_nodest_conn': 1, 'net.ipv4.vs.expire_quiescent_template': 1, 'net.ipv6.conf.all.forwarding': 1,
};

const address = { type: 'string', pattern: '^[0-9a-fA-F:.]+$' };

const instance = {
  type: 'object', additionalProperties: false, required: ['vip', 'ipvs'],
  properties: {
    vip: {
      type: 'object', additionalProperties: false, required: ['vip', 'id', 'interface', 'name', 'peer'],
      properties: {
        vip: { type: 'string', pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$', description: 'the VIP, IPv4 or IPv6; /32 or /128 when no prefix' },
        id: { type: 'integer', minimum: 1, maximum: 255, description: 'virtual_router_id, unique per VIP' },
        interface: { type: 'string', minLength: 1 },
        name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9-]*$', description: 'letters, digits and hyphens, not starting with a hyphen' },
        peer: { type: 'array', minItems: 1, items: address, description: 'the keepalived nodes\' addresses' },
      },
    },
    ipvs: {
      type: 'object', additionalProperties: false, required: ['ips', 'ports'],
      properties: {
        ips: { type: 'array', minItems: 1, items: address, description: 'the real servers (ALB nodes)' },
        ports: {
          type: 'array', minItems: 1,
          items: {
            type: 'object', additionalProperties: false, required: ['port', 'virtual_server_config'],
            properties: {
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              virtual_server_config: { type: 'string', minLength: 1, description: 'lines inside virtual_server { }: delay_loop, lb_algo, lb_kind, protocol' },
              raw_check: { type: 'string', description: 'a health check block inside each real_server, e.g. TCP_CHECK { ... }' },
            },
          },
        },
      },
    },
  },
};

export const aliveVarsSchema = {
  type: 'object',
  required: ['alive'],
  properties: {
    alive: {
      type: 'object', additionalProperties: false, required: ['instances', 'image'],
      properties: {
        config_dir: { type: 'string', pattern: '^/', default: '/etc/keepalived' },
        // apparmor: Debian's docker refuses to start containers when the kernel has AppArmor on but the parser is missing.
        packages: { type: 'array', items: { type: 'string' }, default: ['ipvsadm', 'docker.io', 'apparmor'] },
        modules: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' }, default: IPVS_DIRECTOR_MODULES },
        sysctl: { type: 'object', additionalProperties: { type: ['integer', 'string'] }, default: IPVS_DIRECTOR_SYSCTL },
        docker_daemon: { type: 'object', description: 'written to /etc/docker/daemon.json before docker is installed (e.g. {"iptables": false})' },
        image: {
          type: 'object', additionalProperties: false, required: ['ref'],
          properties: {
            ref: { type: 'string', minLength: 1, description: 'the keepalived image, e.g. registry/tkestack/keepalived:v3.16.0' },
            archive: { type: 'string', description: 'air-gapped: a local `docker save` archive (relative to the inventory) uploaded and loaded' },
            id: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$', description: 'the image ID to insist on' },
          },
        },
        container: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            name: { type: 'string', pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$', default: 'keepalived' },
            privileged: { type: 'boolean', default: false, description: 'off: only NET_ADMIN, NET_RAW and NET_BROADCAST' },
            mount: { type: 'string', pattern: '^/', default: '/live/cfg', description: 'where the config folder appears inside the container' },
            command: { type: 'array', items: { type: 'string' }, description: 'arguments after the image (default: the image\'s own)' },
            reload_signal: { type: 'string', pattern: '^[A-Z0-9]+$', default: 'HUP' },
          },
        },
        instances: { type: 'array', minItems: 1, items: instance },
        ...VRRP_VARS_SCHEMA,
        sync_daemon: { type: 'boolean', default: true, description: 'IPVS connection state synchronised between the directors (lvs_sync_daemon on the first instance\'s interface, following its VRRP state): established connections survive a failover' },
      },
    },
    verify_from: { type: 'string', description: 'the host verify and failover-test send requests from' },
  },
};

/** The `alive` vars after the schema's defaults. */
export interface AliveDeployVars extends AliveVars {
  config_dir: string;
  packages: string[];
  modules: string[];
  sysctl: Record<string, number | string>;
  docker_daemon?: Record<string, unknown>;
  image: { ref: string; archive?: string; id?: string };
  container: { name: string; privileged: boolean; mount: string; command?: string[]; reload_signal: string };
}
