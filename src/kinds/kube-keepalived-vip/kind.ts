/**
 * kube-keepalived-vip (seed 004) as a deployment kind. The VIPs: held once among the nodes,
 * answering through curl; on the host data plane also each node's container and IPVS table. With the
 * DaemonSet: desired = ready = up to date, read through the API on the masters.
 */
import { sh } from '../../connection/shell.js';
import type { Check } from '../../checks/check.js';
import { evaluateContainerIpvsNodes, hostNames, ipvsBackends, ipvsEndToEnd, IPVS_FACT } from '../../checks/ipvs.js';
import { probeError, probeOut, type NodeProbe } from '../../checks/probe.js';
import { ADDRESSES_FACT, vipHolderChecks } from '../../checks/vip.js';
import type { EndToEnd } from '../../checks/curl.js';
import { loadKubeModels } from '../../kube/models.js';
import { renderObjects } from '../../kube/objects.js';
import { containerFact } from '../../operations/container.js';
import type { FactRequest } from '../../operations/types.js';
import { clientHost, hostsNamed, type Deployment, type DrillSpec, type Kind } from '../types.js';
import { kkvObjects, kkvServices, kkvVips } from './model.js';
import playbook, { kkvNodes, kkvOf } from './playbook.js';
import type { KkvVars } from './schema.js';

export function daemonSetFact(v: KkvVars): FactRequest {
  return {
    key: `kkv-daemonset:${v.namespace}/${v.name}`,
    command: sh`${v.kubectl} --kubeconfig ${v.kubeconfig} --request-timeout=5s get daemonset ${v.name} -n ${v.namespace} -o ${'jsonpath={.status.desiredNumberScheduled} {.status.numberReady} {.status.updatedNumberScheduled}'} 2>&1`,
  };
}

/** The DaemonSet's rollout from the first master that answers: every scheduled pod ready and up to date. */
export function daemonSetCheck(v: KkvVars, probes: ReadonlyMap<string, NodeProbe>): Check {
  const target = `${v.namespace}/${v.name}`;
  const tried: string[] = [];
  for (const [master, p] of probes) {
    const error = probeError(p);
    const out = error ?? probeOut(p, daemonSetFact(v).key).trim();
    // updatedNumberScheduled is omitted by the API server while it is 0 (omitempty): "3 0 ", trimmed "3 0".
    const m = /^(\d+) (\d+)(?: (\d+))?$/.exec(out);
    if (!m) {
      tried.push(`${master}: ${out.split('\n').pop() || 'no answer'}`);
      continue;
    }
    const [desired, ready, updated] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
    const ok = desired > 0 && ready === desired && updated === desired;
    return {
      check: 'daemonset', target, value: ready, severity: ok ? 'ok' : ready > 0 ? 'warning' : 'critical',
      detail: `${ready}/${desired} ready, ${updated} up to date${desired === 0 ? ': no node matches the node selector' : ''} (via ${master})`,
    };
  }
  return { check: 'daemonset', target, severity: 'critical', value: 0, detail: `no master answered: ${tried.join('; ') || 'none probed'}` };
}

function evaluateVipNodes(v: KkvVars, probes: ReadonlyMap<string, NodeProbe>): Check[] {
  const vips = kkvVips(v);
  return v.dataplane === 'host' ? evaluateContainerIpvsNodes(vips, kkvServices(v), v.host!.container, probes) : vipHolderChecks(vips, probes);
}

/** Through each VIP to its service: the endpoints named where the inventory lists them (host data plane). */
function endToEnd(v: KkvVars, names: ReadonlyMap<string, string>): EndToEnd[] {
  if (v.dataplane === 'host') {
    return ipvsEndToEnd(kkvServices(v), kkvVips(v), names);
  }
  return Object.entries(v.vips).flatMap(([vip, svc]) => {
    const s = v.services[svc];
    return s && s.protocol === 'TCP' ? [{ mode: 'http' as const, target: { name: svc, vip, port: s.port, sticky: true, servers: [] } }] : [];
  });
}

function drills(v: KkvVars): DrillSpec[] {
  if (v.dataplane === 'host') {
    const c = v.host!.container;
    // SIGTERM: keepalived gives up the VIPs and its IPVS rules before it exits.
    return [{ scenario: 'keepalived-container', stop: sh`docker stop -t 10 ${c} >/dev/null`, start: sh`docker start ${c} >/dev/null` }];
  }
  // The pod's container, stopped through the node's CRI; the kubelet starts a new one.
  return [{
    scenario: 'kube-keepalived-vip-pod',
    stop: sh`crictl stop $(crictl ps -q --name ${v.name}) >/dev/null`,
    start: sh`i=0; while [ $i -lt 120 ]; do [ -n "$(crictl ps -q --name ${v.name})" ] && exit 0; sleep 1; i=$((i+1)); done; echo "the kubelet did not restart ${v.name}" >&2; exit 1`,
  }];
}

export const kubeKeepalivedVip: Kind = {
  serves: true,
  name: 'kube-keepalived-vip',
  load: async () => void (await loadKubeModels()),
  playbook,
  deployments: ({ inventory, hosts, targeted }) => {
    const mine = hosts.filter((h) => targeted.has(h.name));
    const v = mine.map(kkvOf).find((x) => x !== undefined);
    if (!v) return [];
    const nodes = kkvNodes(mine, v);
    const vips = kkvVips(v);
    const out: Deployment[] = [];
    if (v.dataplane === 'daemonset') {
      const masters = mine.filter((h) => h.groups.includes(v.masters));
      out.push({
        kind: 'kube-keepalived-vip', name: `DaemonSet ${v.namespace}/${v.name}`,
        nodes: hostsNamed(inventory, masters.map((m) => m.name)), vips: [],
        probes: [daemonSetFact(v)], evaluate: (probes) => [daemonSetCheck(v, probes)], endToEnd: [], drills: [],
        manifests: renderObjects(kkvObjects(v), 'seed 004'),
      });
    }
    out.push({
      kind: 'kube-keepalived-vip',
      name: `${vips.map((x) => `${x.address} (${x.name})`).join(', ')} on ${nodes.map((n) => n.name).join(', ')}`,
      nodes: hostsNamed(inventory, nodes.map((n) => n.name)),
      vips,
      client: clientHost(inventory, nodes[0]?.vars.verify_from as string | undefined),
      probes: v.dataplane === 'host' ? [ADDRESSES_FACT, IPVS_FACT, containerFact(v.host!.container)] : [ADDRESSES_FACT],
      evaluate: (probes) => evaluateVipNodes(v, probes),
      // The DaemonSet's pods program IPVS inside the cluster's network: only the host data plane's table is read here.
      ...(v.dataplane === 'host' ? { backends: (probe: NodeProbe) => ipvsBackends(kkvServices(v), probe, hostNames(inventory.hosts)) } : {}),
      endToEnd: endToEnd(v, hostNames(inventory.hosts)),
      drills: drills(v),
      ...(v.dataplane === 'host' ? { manifests: renderObjects(kkvObjects(v), 'seed 004') } : {}),
    });
    return out;
  },
};
