/**
 * Seed 003's Kubernetes side: a Service whose externalIPs hold the VIP. IPVS (DR) delivers packets
 * for the VIP to the nodes unchanged, and kube-proxy's externalIP rules take them to the pods, so
 * the nodes need no VIP on lo and no ARP settings. A typed model, checked against the schema.
 */
import { kubeModels } from '../kube/models.js';
import { renderObjects, type KubeObject } from '../kube/objects.js';

export interface ExternalIpService {
  name: string;
  namespace: string;
  selector: Record<string, string>;
  externalIPs: string[];
  ports: { port: number; targetPort: number; protocol: 'TCP' | 'UDP' }[];
}

export function externalIpService(s: ExternalIpService): KubeObject {
  const { Service } = kubeModels();
  return new Service({
    metadata: { name: s.name, namespace: s.namespace, labels: { 'app.kubernetes.io/managed-by': 'lbdeploy' } },
    spec: {
      type: 'ClusterIP',
      selector: s.selector,
      externalIPs: s.externalIPs,
      ports: s.ports.map((p) => ({ name: `${p.protocol.toLowerCase()}-${p.port}`, port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
    },
  });
}

export function renderExternalIpService(s: ExternalIpService): string {
  return renderObjects([externalIpService(s)], 'seed 003')[0]!;
}
