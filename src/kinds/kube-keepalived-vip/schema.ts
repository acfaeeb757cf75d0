/** JSON Schema for the `kube_keepalived_vip` vars (seed 004), with the seed's defaults where it has them. */

const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };
/** A label key: an optional DNS prefix and `/`, then a name. */
const label = { type: 'string', pattern: '^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$' };
const endpoint = { type: 'string', pattern: '^[0-9a-fA-F:.]+$' };

export const kkvVarsSchema = {
  type: 'object',
  required: ['kube_keepalived_vip'],
  properties: {
    kube_keepalived_vip: {
      type: 'object', additionalProperties: false, required: ['subnet', 'vips'],
      properties: {
        namespace: { ...name, default: 'kube-system', description: 'where the ServiceAccount, ConfigMap and DaemonSet live' },
        name: { ...name, default: 'kube-keepalived-vip', description: 'the ServiceAccount, ClusterRole(Binding) and DaemonSet' },
        configmap: { ...name, default: 'vip-configmap' },
        image: { type: 'string', minLength: 1, default: 'gcr.io/google_containers/kube-keepalived-vip:0.9', description: 'air-gapped clusters: the same image in your registry' },
        pull_policy: { enum: ['Always', 'IfNotPresent', 'Never'], default: 'IfNotPresent' },
        unicast: { type: 'boolean', default: false, description: 'VRRP to the nodes\' addresses instead of multicast (clouds, switches that drop multicast)' },
        vrid: { type: 'integer', minimum: 1, maximum: 255, default: 50, description: 'virtual_router_id, unique on the nodes\' segment' },
        node_selector: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: label, default: {} },
        privileged: { type: 'boolean', default: false, description: 'off: NET_ADMIN, NET_RAW, NET_BROADCAST and /lib/modules read-only' },
        interface: { type: 'string', minLength: 1, default: 'eth0', description: 'the nodes\' interface on `subnet` (track_interface, the VIPs)' },
        subnet: { type: 'string', pattern: '^[0-9a-fA-F:.]+/[0-9]{1,3}$', description: 'the nodes\' subnet: every VIP must lie in it' },
        vips: {
          type: 'object', minProperties: 1, description: 'VIP -> namespace/service, as the ConfigMap holds it',
          propertyNames: { pattern: '^[0-9a-fA-F:.]+$' },
          additionalProperties: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$' },
        },
        masters: { type: 'string', default: 'masters', description: 'group of the control-plane nodes: kubectl runs on the first whose API answers' },
        nodes: { type: 'string', default: 'kube_nodes', description: 'group of the nodes the DaemonSet runs on (verify probes them)' },
        kubeconfig: { type: 'string', pattern: '^/', default: '/etc/kubernetes/admin.conf', description: 'on the masters' },
        kubectl: { type: 'string', minLength: 1, default: 'kubectl' },
        rollout_timeout: { type: 'integer', minimum: 1, maximum: 3600, default: 300, description: 'seconds `up` waits for the DaemonSet rollout' },
        services: {
          type: 'object', description: 'namespace/service -> its port (verify curls the VIP there); with dataplane host also its endpoints, as the API would list them',
          additionalProperties: {
            type: 'object', additionalProperties: false, required: ['port'],
            properties: {
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              protocol: { enum: ['TCP', 'UDP'], default: 'TCP' },
              target_port: { type: 'integer', minimum: 1, maximum: 65535, description: 'the endpoints\' port; default: port' },
              endpoints: { type: 'array', minItems: 1, items: endpoint, description: 'dataplane host only' },
            },
          },
          default: {},
        },
        dataplane: {
          enum: ['daemonset', 'host'], default: 'daemonset',
          description: 'daemonset: the seed (the pods read the ConfigMap and the endpoints from the API). host: no cluster; the same keepalived configuration, with the endpoints below, in a keepalived container on each node',
        },
        host: {
          type: 'object', additionalProperties: false, required: ['image'],
          description: 'dataplane host: the keepalived container on each node',
          properties: {
            image: {
              type: 'object', additionalProperties: false, required: ['ref'],
              properties: {
                ref: { type: 'string', minLength: 1, description: 'a keepalived image' },
                archive: { type: 'string', description: 'air-gapped: a local `docker save` archive (relative to the inventory)' },
                id: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
              },
            },
            config_dir: { type: 'string', pattern: '^/', default: '/etc/kube-keepalived-vip' },
            container: { ...name, default: 'kube-keepalived-vip' },
            mount: { type: 'string', pattern: '^/', default: '/live/cfg', description: 'where the config folder appears inside the container' },
            command: { type: 'array', items: { type: 'string' }, description: 'arguments after the image (default: the image\'s own)' },
            packages: { type: 'array', items: { type: 'string' }, default: ['ipvsadm', 'docker.io', 'apparmor'] },
            docker_daemon: { type: 'object', description: 'written to /etc/docker/daemon.json (e.g. {"iptables": false}: docker\'s FORWARD policy DROP breaks IPVS NAT replies)' },
          },
        },
      },
    },
    verify_from: { type: 'string', description: 'the host verify and failover-test send requests from' },
  },
};

export interface KkvService {
  port: number;
  protocol: 'TCP' | 'UDP';
  target_port?: number;
  endpoints?: string[];
}

/** The `kube_keepalived_vip` vars after the schema's defaults. */
export interface KkvVars {
  namespace: string;
  name: string;
  configmap: string;
  image: string;
  pull_policy: 'Always' | 'IfNotPresent' | 'Never';
  unicast: boolean;
  vrid: number;
  node_selector: Record<string, string>;
  privileged: boolean;
  interface: string;
  subnet: string;
  vips: Record<string, string>;
  masters: string;
  nodes: string;
  kubeconfig: string;
  kubectl: string;
  rollout_timeout: number;
  dataplane: 'daemonset' | 'host';
  host?: {
    image: { ref: string; archive?: string; id?: string };
    config_dir: string;
    container: string;
    mount: string;
    command?: string[];
    packages: string[];
    docker_daemon?: Record<string, unknown>;
  };
  services: Record<string, KkvService>;
}
