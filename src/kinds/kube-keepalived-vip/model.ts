/**
 * Seed 004 (kube-keepalived-vip) as data: the five Kubernetes objects with today's API versions
 * (rbac.authorization.k8s.io/v1, apps/v1; the seed's v1beta1/v1alpha1/extensions were removed from
 * Kubernetes), typed and validated against the Kubernetes OpenAPI schema by kubernetes-models; and
 * the keepalived configuration kube-keepalived-vip writes for the ConfigMap (the seed prints it).
 */
import { kubeModels } from '../../kube/models.js';
import { validateObjects, type KubeObject } from '../../kube/objects.js';
import { inSubnet, parseAddress } from '../../util/net.js';
import type { HostInfo, PlaybookIssue } from '../../playbook/define.js';
import type { VirtualService } from '../../render/ipvs.js';
import type { Vip } from '../../checks/vip.js';
import type { KeepalivedConfig } from '../../render/keepalived.js';
import type { KkvVars } from './schema.js';

/** kube-keepalived-vip's capabilities without `privileged`: addresses and IPVS, VRRP sockets, gratuitous ARP. */
export const KKV_CAPABILITIES = ['NET_ADMIN', 'NET_RAW', 'NET_BROADCAST'];

const LABELS = (v: KkvVars) => ({ 'app.kubernetes.io/name': v.name, 'app.kubernetes.io/managed-by': 'lbdeploy' });

/** The seed's five objects: ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet. */
export function kkvObjects(v: KkvVars): KubeObject[] {
  const meta = { name: v.name, namespace: v.namespace, labels: LABELS(v) };
  const selector = { 'app.kubernetes.io/name': v.name };
  const { ServiceAccount, ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet } = kubeModels();
  const args = [`--services-configmap=${v.namespace}/${v.configmap}`, `--vrid=${v.vrid}`, ...(v.unicast ? ['--use-unicast=true'] : [])];
  return [
    new ServiceAccount({ metadata: meta }),
    new ClusterRole({
      metadata: { name: v.name, labels: LABELS(v) },
      // Read-only, the seed's list: the pods read the ConfigMap and follow the services' endpoints.
      rules: [{ apiGroups: [''], resources: ['pods', 'nodes', 'endpoints', 'services', 'configmaps'], verbs: ['get', 'list', 'watch'] }],
    }),
    new ClusterRoleBinding({
      metadata: { name: v.name, labels: LABELS(v) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: v.name },
      subjects: [{ kind: 'ServiceAccount', name: v.name, namespace: v.namespace }],
    }),
    new ConfigMap({ metadata: { name: v.configmap, namespace: v.namespace, labels: LABELS(v) }, data: { ...v.vips } }),
    new DaemonSet({
      metadata: meta,
      spec: {
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...LABELS(v), ...selector } },
          spec: {
            hostNetwork: true,
            serviceAccountName: v.name,
            ...(Object.keys(v.node_selector).length > 0 ? { nodeSelector: v.node_selector } : {}),
            containers: [{
              name: v.name,
              image: v.image,
              imagePullPolicy: v.pull_policy,
              args,
              env: [
                { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
              ],
              securityContext: v.privileged ? { privileged: true } : { privileged: false, capabilities: { add: KKV_CAPABILITIES } },
              volumeMounts: [
                { name: 'modules', mountPath: '/lib/modules', readOnly: true },
                ...(v.privileged ? [{ name: 'dev', mountPath: '/dev' }] : []),
              ],
            }],
            volumes: [
              { name: 'modules', hostPath: { path: '/lib/modules', type: 'Directory' as const } },
              ...(v.privileged ? [{ name: 'dev', hostPath: { path: '/dev', type: 'Directory' as const } }] : []),
            ],
          },
        },
      },
    }),
  ];
}

/** ConfigMap keys: letters, digits, '-', '_' and '.' (the API server refuses others, so no IPv6 VIP). */
const CONFIGMAP_KEY = /^[-._a-zA-Z0-9]+$/;

export interface KkvNode {
  name: string;
  address: string;
}

/** The service's settings kube-keepalived-vip writes (the seed's keepalived.conf). */
export const KKV_VIRTUAL_SERVER = { delayLoop: 5, scheduler: 'wlc', method: 'NAT', persistence: 1800, connectTimeout: 3 };

/**
 * keepalived.conf as kube-keepalived-vip writes it on a node: one instance `vips` (BACKUP, nopreempt,
 * priority 100 + the node's index), VRRP v3, unicast to the other nodes when asked, and a NAT
 * virtual_server per VIP to the service's endpoints with a TCP check each.
 *
 * `forKeepalived2`: what keepalived 2.x accepts: 0.9's image runs keepalived 1.x, whose
 * `vrrp_iptables` 2.x replaced by nftables and whose `track_interface` of the instance's own
 * interface 2.x ignores, and `keepalived -t` fails on both (exit 5). The host data plane runs 2.x.
 */
export function kkvKeepalived(node: KkvNode, nodes: readonly KkvNode[], v: KkvVars, forKeepalived2: boolean): KeepalivedConfig {
  const index = Math.max(0, nodes.findIndex((n) => n.name === node.name));
  return {
    global: { routerId: node.name, vrrpVersion: 3, ...(forKeepalived2 ? {} : { vrrpIptables: 'KUBE-KEEPALIVED-VIP' }) },
    scripts: [],
    instances: [{
      name: 'vips',
      state: 'BACKUP',
      interface: v.interface,
      virtualRouterId: v.vrid,
      priority: 100 + index,
      nopreempt: true,
      advertInt: 1,
      ...(forKeepalived2 ? {} : { trackInterfaces: [v.interface] }),
      ...(v.unicast ? { unicastSrcIp: node.address, unicastPeers: nodes.filter((n) => n.name !== node.name).map((n) => n.address) } : {}),
      virtualAddresses: Object.keys(v.vips).map((address) => ({ address })),
    }],
    virtualServers: Object.entries(v.vips).flatMap(([vip, svc]) => {
      const s = v.services[svc];
      if (!s?.endpoints) return [];
      const port = s.target_port ?? s.port;
      const k = KKV_VIRTUAL_SERVER;
      return [{
        comment: `Service: ${svc}`,
        address: vip,
        port: s.port,
        config: `delay_loop ${k.delayLoop}\nlvs_sched ${k.scheduler}\nlvs_method ${k.method}\npersistence_timeout ${k.persistence}\nprotocol ${s.protocol}`,
        realServers: s.endpoints.map((e) => ({ address: e, port, weight: 1, check: `TCP_CHECK {\nconnect_port ${port}\nconnect_timeout ${k.connectTimeout}\n}` })),
      }];
    }),
  };
}

/** The VIPs, each named by the service behind it. */
export function kkvVips(v: KkvVars): Vip[] {
  return Object.entries(v.vips).map(([address, svc]) => ({ name: svc, address }));
}

/** The IPVS table the configuration programs once the endpoints pass their checks (the host data plane). */
export function kkvServices(v: KkvVars): VirtualService[] {
  return Object.entries(v.vips).flatMap(([vip, svc]) => {
    const s = v.services[svc];
    if (!s?.endpoints) return [];
    return [{
      protocol: s.protocol === 'UDP' ? 'udp' as const : 'tcp' as const,
      address: vip, port: s.port, scheduler: KKV_VIRTUAL_SERVER.scheduler, persistent: KKV_VIRTUAL_SERVER.persistence,
      realServers: s.endpoints.map((e) => ({ address: e, port: s.target_port ?? s.port, forward: 'masq' as const, weight: 1 })),
    }];
  });
}

/**
 * What the schema cannot see. The VIPs: inside the nodes' subnet, of its family, no host's own
 * address, a ConfigMap key; a service behind one VIP only. The services: known where verify or the
 * host data plane needs them, endpoints only where something reads them. The groups: not empty.
 */
export function kkvChecks(v: KkvVars, hosts: readonly HostInfo[]): PlaybookIssue[] {
  const issues: PlaybookIssue[] = [];
  const at = (...p: (string | number)[]) => ['kube_keepalived_vip', ...p];
  const owners = new Map(hosts.flatMap((h) => [h.address, ...((h.vars.addresses as string[] | undefined) ?? [])].map((a) => [a, h.name] as const)));
  const byService = new Map<string, string>();
  for (const [vip, svc] of Object.entries(v.vips)) {
    if (!parseAddress(vip)) issues.push({ path: at('vips', vip), message: `${vip} is not an IP address` });
    else if (!inSubnet(vip, v.subnet)) issues.push({ path: at('vips', vip), message: `VIP ${vip} is outside the nodes' subnet ${v.subnet}`, hint: 'pick an unused address of the nodes\' segment: VRRP moves it between them' });
    if (!CONFIGMAP_KEY.test(vip)) issues.push({ path: at('vips', vip), message: `VIP ${vip} cannot be a ConfigMap key (letters, digits, '-', '_', '.')`, hint: 'kube-keepalived-vip maps IPv4 VIPs; for IPv6 use ipvs-keepalived (seed 002)' });
    const owner = owners.get(vip);
    if (owner) issues.push({ path: at('vips', vip), message: `VIP ${vip} is the address of ${owner}`, hint: 'a VIP must be an address no host has' });
    const first = byService.get(svc);
    if (first) issues.push({ path: at('vips', vip), message: `service ${svc} is already behind VIP ${first}`, hint: 'one VIP per service: kube-keepalived-vip programs one virtual server per ConfigMap entry' });
    else byService.set(svc, vip);
    if (v.dataplane === 'host' && !v.services[svc]?.endpoints) {
      issues.push({ path: v.services[svc] ? at('services', svc) : at('vips', vip), message: `service ${svc} has no endpoints in kube_keepalived_vip.services`, hint: 'dataplane host reads no API: list the service\'s port and endpoints there' });
    }
  }
  for (const [svc, s] of Object.entries(v.services)) {
    if (!byService.has(svc)) issues.push({ path: at('services', svc), message: `service ${svc} is behind no VIP`, hint: 'map a VIP to it in kube_keepalived_vip.vips, or remove it' });
    if (v.dataplane === 'daemonset' && s.endpoints) issues.push({ path: at('services', svc, 'endpoints'), message: 'endpoints are read from the API by the pods (dataplane daemonset): these would be ignored', hint: 'remove them, or set dataplane: host' });
    (s.endpoints ?? []).forEach((e, i) => {
      if (!parseAddress(e)) issues.push({ path: at('services', svc, 'endpoints', i), message: `${e} is not an IP address` });
    });
  }
  if (v.dataplane === 'host' && !v.host) issues.push({ path: at('dataplane'), message: 'dataplane host needs kube_keepalived_vip.host (the keepalived image)', hint: 'add host: { image: { ref: ... } }' });
  if (v.dataplane === 'daemonset' && v.host) issues.push({ path: at('host'), message: 'kube_keepalived_vip.host is for dataplane host only: the DaemonSet would ignore it', hint: 'remove it, or set dataplane: host' });
  const nodes = hosts.filter((h) => h.groups.includes(v.nodes));
  if (nodes.length === 0) issues.push({ path: at('nodes'), message: `no host in the nodes group '${v.nodes}'`, hint: 'list the Kubernetes nodes that run the DaemonSet there: verify probes them for the VIPs' });
  for (const n of nodes) {
    if (!inSubnet(n.address, v.subnet)) issues.push({ host: n.name, path: at('subnet'), message: `node ${n.name} (${n.address}) is outside ${v.subnet}`, hint: 'VRRP needs the nodes on one segment: set subnet to theirs' });
  }
  if (v.dataplane === 'daemonset' && !hosts.some((h) => h.groups.includes(v.masters))) {
    issues.push({ path: at('masters'), message: `no host in the masters group '${v.masters}'`, hint: 'kubectl applies the objects on the first master whose API answers' });
  }
  const problems = validateObjects(kkvObjects(v));
  for (const p of problems) issues.push({ path: at(), message: `invalid Kubernetes object: ${p}` });
  return issues;
}
