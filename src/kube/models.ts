/**
 * kubernetes-models, loaded when a kind that renders Kubernetes objects is used: the library and its
 * schema validators are about 140 modules, a third of `up`'s start-up for a fleet that has no
 * Kubernetes object at all. A kind or playbook that uses them loads them in its `load` (awaited
 * before its checks, steps and deployments); the renderers then read them synchronously.
 */
import type { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import type { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import type { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { Service } from 'kubernetes-models/v1/Service';
import type { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

export interface KubeModels {
  DaemonSet: typeof DaemonSet;
  ClusterRole: typeof ClusterRole;
  ClusterRoleBinding: typeof ClusterRoleBinding;
  ConfigMap: typeof ConfigMap;
  Service: typeof Service;
  ServiceAccount: typeof ServiceAccount;
}

let loaded: KubeModels | undefined;
let loading: Promise<KubeModels> | undefined;

export function loadKubeModels(): Promise<KubeModels> {
  if (loaded) return Promise.resolve(loaded);
  loading ??= Promise.all([
    import('kubernetes-models/apps/v1/DaemonSet'),
    import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole'),
    import('kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding'),
    import('kubernetes-models/v1/ConfigMap'),
    import('kubernetes-models/v1/Service'),
    import('kubernetes-models/v1/ServiceAccount'),
  ]).then(([ds, cr, crb, cm, svc, sa]) => {
    loaded = {
      DaemonSet: ds.DaemonSet, ClusterRole: cr.ClusterRole, ClusterRoleBinding: crb.ClusterRoleBinding,
      ConfigMap: cm.ConfigMap, Service: svc.Service, ServiceAccount: sa.ServiceAccount,
    };
    return loaded;
  });
  return loading;
}

/** The models, once loadKubeModels() has resolved (a kind's or playbook's `load` does it). */
export function kubeModels(): KubeModels {
  if (!loaded) throw new Error('lbdeploy: Kubernetes models used before they were loaded (await loadKubeModels() in the kind\'s or playbook\'s load)');
  return loaded;
}
