/**
 * Kubernetes objects applied with kubectl on a host that reaches the API (a master, with its
 * admin.conf): `kubectl diff --server-side` decides (no difference = ok, no change), then
 * `kubectl apply --server-side` with lbdeploy's field manager; and a DaemonSet's rollout awaited.
 */
import { createHash } from 'node:crypto';
import { sh } from '../connection/shell.js';
import { common, fact, type FactRequest, type Operation, type StepOptions, type StepPlan } from './types.js';

/** The field manager of lbdeploy's server-side applies: `kubectl get -o yaml --show-managed-fields` names it. */
export const FIELD_MANAGER = 'lbdeploy';

export interface KubectlTarget {
  /** The kubectl command (a name on PATH or a path). */
  kubectl: string;
  kubeconfig: string;
}

export interface KubeApplyOptions extends StepOptions, KubectlTarget {
  /** YAML documents, joined with `---`. */
  manifests: string;
}

const kubectlBase = (k: KubectlTarget) => sh`${k.kubectl} --kubeconfig ${k.kubeconfig} --request-timeout=20s`;

export function kubeDiffFact(o: KubeApplyOptions): FactRequest {
  const digest = createHash('sha256').update(o.manifests).digest('hex').slice(0, 16);
  // kubectl diff: exit 0 = no difference, 1 = differences, more = an error (the API, the objects).
  return {
    key: `kube-diff:${o.kubeconfig}:${digest}`,
    command: sh`if ! command -v ${o.kubectl} >/dev/null 2>&1; then echo @no-kubectl; exit 0; fi
printf '%s\n' ${o.manifests} | ${kubectlBase(o)} diff --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f - 2>&1; echo "@rc=$?"`,
  };
}

export type KubeDiff = { kind: 'no-kubectl' } | { kind: 'same' } | { kind: 'differs'; diff: string } | { kind: 'error'; message: string };

/** What the diff fact printed. */
export function parseKubeDiff(stdout: string): KubeDiff {
  if (stdout.includes('@no-kubectl')) return { kind: 'no-kubectl' };
  const m = /@rc=(\d+)\s*$/.exec(stdout);
  const body = stdout.replace(/@rc=\d+\s*$/, '').trimEnd();
  if (!m) return { kind: 'error', message: body || 'kubectl diff printed nothing' };
  if (m[1] === '0') return { kind: 'same' };
  if (m[1] === '1' && /^(diff |--- |\+\+\+ )/m.test(body)) return { kind: 'differs', diff: body + '\n' };
  return { kind: 'error', message: body || `kubectl diff exited ${m[1]}` };
}

export function kubeApply(o: KubeApplyOptions): Operation {
  const req = kubeDiffFact(o);
  const count = o.manifests.split(/^---$/m).filter((d) => d.trim() !== '').length;
  return {
    ...common('kube-apply', `kubectl apply (${count} object(s))`, o),
    facts: () => [req],
    plan: (facts, ctx): StepPlan => {
      const d = parseKubeDiff(fact(facts, req.key).stdout);
      if (d.kind === 'no-kubectl') return { kind: 'fail', message: `${o.kubectl} is not installed here`, hint: 'install kubectl on the masters (it must reach the API with the kubeconfig)' };
      if (d.kind === 'error') return { kind: 'fail', message: `kubectl diff failed: ${d.message}`, hint: `check the API and ${o.kubeconfig}; \`lbdeploy manifest\` prints the objects` };
      if (d.kind === 'same') return { kind: 'ok', reason: `all ${count} object(s) as planned` };
      return {
        kind: 'change', summary: `apply ${count} object(s) server-side as ${FIELD_MANAGER}`,
        script: sh`printf '%s\n' ${o.manifests} | ${kubectlBase(o)} apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f -`,
        ...(ctx.diff ? { diff: d.diff } : {}),
      };
    },
  };
}

export interface RolloutOptions extends StepOptions, KubectlTarget {
  /** e.g. daemonset/kube-keepalived-vip */
  resource: string;
  namespace: string;
  timeoutSec: number;
}

/** Wait until every pod of the workload runs the current spec (never a change; not run in check mode). */
export function kubeRollout(o: RolloutOptions): Operation {
  return {
    ...common('kube-rollout', `rollout ${o.resource}`, o),
    facts: () => [],
    plan: () => ({ kind: 'run', summary: `wait up to ${o.timeoutSec} s for the rollout of ${o.namespace}/${o.resource}`, script: sh`${o.kubectl} --kubeconfig ${o.kubeconfig} rollout status ${o.resource} -n ${o.namespace} --timeout=${`${o.timeoutSec}s`}` }),
  };
}
