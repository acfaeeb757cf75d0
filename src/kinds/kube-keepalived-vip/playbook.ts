/**
 * kube-keepalived-vip: seed 004. The pods of a DaemonSet (hostNetwork) hold the VIPs by VRRP and
 * program IPVS (NAT) to the endpoints of the services a ConfigMap names.
 *
 * dataplane daemonset (the seed): the five objects are applied with kubectl on the first master
 * whose API answers (server-side, lbdeploy's field manager; nothing differs = ok), then the
 * DaemonSet's rollout is awaited. No master answering stops the run before any step, saying so.
 *
 * dataplane host (no cluster): the keepalived configuration kube-keepalived-vip writes for that
 * ConfigMap, with the endpoints from the inventory, in a keepalived container on each node.
 */
import { sh } from '../../connection/shell.js';
import { dockerHostSteps, keepalivedContainerSteps, prepareImageArchive, restartDocker } from '../../lb-blocks/keepalived-container.js';
import { renderObjects } from '../../kube/objects.js';
import { containerSignal, type ImageArchive } from '../../operations/container.js';
import { kernelModules, sysctl } from '../../operations/kernel.js';
import { kubeApply, kubeRollout } from '../../operations/kube.js';
import type { Operation } from '../../operations/types.js';
import { loadKubeModels } from '../../kube/models.js';
import { definePlaybook, type HostInfo, type PrepareResult } from '../../playbook/define.js';
import { renderKeepalived } from '../../render/keepalived.js';
import { kkvChecks, kkvKeepalived, kkvObjects } from './model.js';
import { kkvVarsSchema, type KkvVars } from './schema.js';

export const kkvOf = (h: { vars: Readonly<Record<string, unknown>> }) => h.vars.kube_keepalived_vip as KkvVars | undefined;
const firstVars = (hosts: readonly HostInfo[]) => hosts.map(kkvOf).find((v) => v !== undefined);
export const kkvNodes = (hosts: readonly HostInfo[], v: KkvVars) => hosts.filter((h) => h.groups.includes(v.nodes));

/** Which master reaches the API: the first to answer /healthz with its kubeconfig. */
async function apiMaster(ctx: Parameters<NonNullable<Parameters<typeof definePlaybook>[0]['prepare']>>[0], v: KkvVars): Promise<PrepareResult> {
  const masters = ctx.hosts.filter((h) => h.groups.includes(v.masters));
  const tried: string[] = [];
  for (const m of masters) {
    const r = await ctx.run(m.name, sh`if ! command -v ${v.kubectl} >/dev/null 2>&1; then echo "${v.kubectl} is not installed"; exit 3; fi
${v.kubectl} --kubeconfig ${v.kubeconfig} --request-timeout=5s get --raw=/healthz 2>&1`).catch((e: Error) => ({ code: 255, stdout: e.message, stderr: '' }));
    const said = (r.stdout + r.stderr).trim().split('\n').pop() ?? '';
    if (r.code === 0 && said === 'ok') return { notes: [`the Kubernetes API answers on ${m.name} (${v.kubeconfig}): kubectl applies there`], vars: { [m.name]: { kkv_apply: true } } };
    tried.push(`${m.name}: ${said || `exit ${r.code}`}`);
  }
  return {
    errors: [{
      message: `no Kubernetes API answers on the masters (${tried.join('; ')}): seed 004's objects are applied with kubectl on a master`,
      hint: `start the API server (or fix ${v.kubeconfig} on a master); \`lbdeploy manifest\` prints the objects to apply by hand`,
    }],
  };
}

export default definePlaybook({
  name: 'kube-keepalived-vip',
  // The objects are kubernetes-models, loaded only for inventories that deploy this kind.
  load: async () => void (await loadKubeModels()),
  description: 'seed 004: kube-keepalived-vip as a DaemonSet (applied with kubectl on a master), or its keepalived configuration on the nodes without a cluster',
  vars: kkvVarsSchema,
  check: (hosts) => {
    const v = firstVars(hosts);
    return v ? kkvChecks(v, hosts) : [];
  },
  prepare: async (ctx) => {
    const v = firstVars(ctx.hosts);
    if (!v) return {};
    if (v.dataplane === 'daemonset') return apiMaster(ctx, v);
    const image = v.host!.image;
    if (!image.archive) return {};
    return prepareImageArchive(image.archive, image.ref, ctx.inventoryDir, kkvNodes(ctx.hosts, v).map((h) => h.name), 'kkv_image_archive', 'kube_keepalived_vip.host.image');
  },
  plays: [
    {
      name: 'kube-keepalived-vip objects',
      hosts: (vars) => (vars.kube_keepalived_vip as { masters?: string } | undefined)?.masters ?? 'masters',
      steps: (h) => {
        const v = kkvOf(h)!;
        if (v.dataplane !== 'daemonset' || h.vars.kkv_apply !== true) return [];
        const target = { kubectl: v.kubectl, kubeconfig: v.kubeconfig };
        return [
          kubeApply({ ...target, manifests: renderObjects(kkvObjects(v), 'seed 004').join('---\n'), title: `objects ${v.namespace}/${v.name}`, tags: ['kubernetes'] }),
          kubeRollout({ ...target, resource: `daemonset/${v.name}`, namespace: v.namespace, timeoutSec: v.rollout_timeout, tags: ['kubernetes'] }),
        ];
      },
    },
    {
      name: 'kube-keepalived-vip on the nodes (dataplane host)',
      hosts: (vars) => (vars.kube_keepalived_vip as { nodes?: string } | undefined)?.nodes ?? 'kube_nodes',
      steps: (h) => {
        const v = kkvOf(h)!;
        if (v.dataplane !== 'host') return [];
        const c = v.host!;
        const nodes = kkvNodes(h.inventory, v);
        const steps: Operation[] = [
          ...dockerHostSteps(c.packages, c.docker_daemon),
          // The seed's image loads these itself from /lib/modules; a plain keepalived image cannot.
          kernelModules({ file: '/etc/modules-load.d/kube-keepalived-vip.conf', modules: ['ip_vs', `ip_vs_wlc`], tags: ['kernel'] }),
          // NAT: the node forwards the replies back to the client.
          sysctl({ file: '/etc/sysctl.d/60-kube-keepalived-vip.conf', values: { 'net.ipv4.ip_forward': 1 }, tags: ['kernel'] }),
          ...keepalivedContainerSteps({
            dir: c.config_dir, mount: c.mount, image: c.image, archive: h.vars.kkv_image_archive as ImageArchive | undefined,
            name: c.container, privileged: v.privileged, command: c.command,
            config: renderKeepalived(kkvKeepalived(h, nodes, v, true)), notify: ['reload keepalived'], tags: ['keepalived'],
          }),
        ];
        return steps;
      },
      handlers: (h) => ({
        'restart docker': restartDocker(),
        'reload keepalived': containerSignal({ name: kkvOf(h)!.host?.container ?? 'kube-keepalived-vip', signal: 'HUP' }),
      }),
    },
  ],
});
