/**
 * kubeconfig: after a cluster's certificate renewal (seed 002 steps 6-8). Fetch admin.conf from
 * every master, read its client certificate, refuse one that is expired or not yet valid, point
 * each copy at its master's real address, and write them to the LB nodes as kubecfg01.conf, 02, 03:
 * mode 0600, atomic, each proven by an authenticated API call from the LB node before it replaces
 * the old file. Consumers are reloaded only when a file changed.
 */
import { sh } from '../../connection/shell.js';
import { shippedFile } from '../../files.js';
import { certInfo, type CertInfo } from '../../kube/cert.js';
import { apiServerUrl, decodeData, readKubeconfig, withServer } from '../../kube/kubeconfig.js';
import { command } from '../../operations/command.js';
import { containerSignal } from '../../operations/container.js';
import { directory, file } from '../../operations/file.js';
import type { Operation } from '../../operations/types.js';
import { definePlaybook, type HostInfo } from '../../playbook/define.js';
import { ADDRESSES_FACT, holdsAddress } from '../../checks/vip.js';
import type { ExecResult } from '../../connection/ssh.js';
import type { FactResult } from '../../operations/types.js';

export const CHECK = '/usr/local/sbin/lbdeploy-check-kubeconfig';
const NOT_YET = 'does not exist yet: it reads the kubeconfigs when it starts';

/**
 * With consumers, one node per batch, those holding one of `kubeconfig.vips` last: each node's
 * consumer restarts before the next node changes, and a VIP moves at most once. Without consumers,
 * all nodes at once (nothing restarts).
 */
export function oneAtATimeHoldersLast(hosts: readonly HostInfo[], probes: ReadonlyMap<string, FactResult>): HostInfo[][] {
  const v = (hosts[0]?.vars as unknown as KubeVars | undefined)?.kubeconfig;
  if (!v || v.consumers.length === 0) return hosts.length > 0 ? [[...hosts]] : [];
  const holds = (h: HostInfo) => v.vips.some((vip) => holdsAddress(probes.get(h.name)?.stdout ?? '', vip));
  return [...hosts.filter((h) => !holds(h)), ...hosts.filter(holds)].map((h) => [h]);
}

export interface KubeVars {
  kubeconfig: {
    masters: string; targets: string; source: string; dest_dir: string; file_pattern: string; port: number; min_days_left: number; vips: string[];
    verify_server?: string;
    consumers: { service?: string; container?: string; action: 'reload' | 'restart' }[];
  };
}

type Consumer = KubeVars['kubeconfig']['consumers'][number];
const consumerName = (c: Consumer) => `kubeconfig consumer ${c.service ? `service ${c.service}` : `container ${c.container}`}`;

export interface FetchedKubeconfig {
  master: string;
  path: string;
  content: string;
  cert: CertInfo;
}

export default definePlaybook({
  name: 'kubeconfig',
  description: 'admin.conf from the masters to the LB nodes as kubecfgNN.conf, certificate checked and proven',
  vars: {
    type: 'object',
    required: ['kubeconfig'],
    properties: {
      kubeconfig: {
        type: 'object', additionalProperties: false,
        properties: {
          masters: { type: 'string', default: 'masters', description: 'group to fetch admin.conf from' },
          targets: { type: 'string', default: 'lb', description: 'group to write the kubeconfigs to' },
          source: { type: 'string', pattern: '^/', default: '/etc/kubernetes/admin.conf' },
          dest_dir: { type: 'string', pattern: '^/', default: '/etc/keepalived/kubecfg' },
          file_pattern: { type: 'string', pattern: 'NN', default: 'kubecfgNN.conf', description: 'NN is the master\'s index, 01, 02, ...' },
          port: { type: 'integer', minimum: 1, maximum: 65535, default: 6443 },
          min_days_left: { type: 'integer', minimum: 0, default: 0, description: 'refuse a certificate with fewer days left' },
          verify_server: {
            type: 'string', pattern: '^https://[^/\\s]+$',
            description: 'the control-plane endpoint (e.g. https://VIP:6443): `verify` and `up`\'s wait read the API through it on every target node with each distributed kubeconfig\'s credentials',
          },
          vips: {
            type: 'array', items: { type: 'string', minLength: 1 }, default: [],
            description: 'the VIPs the consumers serve: with consumers, the nodes are rotated one at a time, those holding one of these last (a VIP moves at most once)',
          },
          consumers: {
            type: 'array', default: [],
            items: { type: 'object', additionalProperties: false, properties: { service: { type: 'string' }, container: { type: 'string' }, action: { enum: ['reload', 'restart'], default: 'reload' } } },
          },
        },
        default: {},
      },
    },
  },
  prepare: async (ctx) => {
    const target = ctx.hosts.find((h) => h.vars.kubeconfig !== undefined);
    const v = (target?.vars as unknown as KubeVars | undefined)?.kubeconfig;
    if (!v) return {};
    const masters = ctx.hosts.filter((h) => h.groups.includes(v.masters));
    if (masters.length === 0) return { errors: [{ message: `no host in the masters group '${v.masters}'`, hint: 'put the control-plane nodes in that group' }] };
    const fetched: FetchedKubeconfig[] = [];
    const errors: { host?: string; message: string; hint?: string }[] = [];
    for (const [i, m] of masters.entries()) {
      const r = await ctx.run(m.name, sh`cat ${v.source}`);
      if (r.code !== 0) {
        errors.push({ host: m.name, message: `cannot read ${v.source}: ${r.stderr.trim()}`, hint: 'become root on the masters (connection: become: true)' });
        continue;
      }
      try {
        const info = readKubeconfig(r.stdout);
        if (info.clientKeyData) ctx.secret(info.clientKeyData), ctx.secret(decodeData(info.clientKeyData)!);
        const pem = decodeData(info.clientCertData);
        if (!pem) throw new Error('the user has no client-certificate-data');
        const cert = certInfo(pem);
        if (cert.state !== 'valid' || cert.daysLeft < v.min_days_left) {
          errors.push({
            host: m.name,
            message: `the client certificate in ${v.source} is ${cert.state === 'valid' ? `valid for only ${cert.daysLeft} day(s)` : cert.state} (notBefore ${cert.notBefore}, notAfter ${cert.notAfter}): not distributed, the LB nodes keep their files`,
            hint: 'renew the cluster certificates (kubeadm certs renew all), then run again',
          });
          continue;
        }
        const name = v.file_pattern.replace('NN', String(i + 1).padStart(2, '0'));
        fetched.push({ master: m.name, path: `${v.dest_dir}/${name}`, content: withServer(r.stdout, apiServerUrl(m.address, v.port)), cert });
      } catch (e) {
        errors.push({ host: m.name, message: `${v.source} is not a usable kubeconfig: ${(e as Error).message}` });
      }
    }
    const notes = fetched.map((f) => `${f.master}: ${f.cert.subject}, valid until ${f.cert.notAfter} (${f.cert.daysLeft} days left), serial ${f.cert.serial} -> ${f.path}`);
    const serials = new Set(fetched.map((f) => f.cert.serial));
    if (fetched.length > 1) notes.push(serials.size === 1 ? 'all masters hold the same client certificate' : `the masters hold ${serials.size} different client certificates`);
    if (errors.length > 0) return { errors, notes };
    const targets = ctx.hosts.filter((h) => h.groups.includes(v.targets));
    return { notes, vars: Object.fromEntries(targets.map((t) => [t.name, { kubeconfig_files: fetched }])) };
  },
  plays: [{
    name: 'kubeconfigs on the LB nodes',
    // The group named by kubeconfig.targets (default lb).
    hosts: (vars) => (vars.kubeconfig as { targets?: string } | undefined)?.targets ?? 'lb',
    // Consumers restart or reload as their files change: one node at a time, the VIP holders last.
    probe: ADDRESSES_FACT,
    batches: oneAtATimeHoldersLast,
    steps: (h) => {
      const v = (h.vars as unknown as KubeVars).kubeconfig;
      const files = (h.vars.kubeconfig_files as FetchedKubeconfig[] | undefined) ?? [];
      const notify = v.consumers.map(consumerName);
      return [
        file({ path: CHECK, content: shippedFile('check_kubeconfig.sh'), mode: '0755', tags: ['kubeconfig'] }),
        directory({ path: v.dest_dir, mode: '0700', tags: ['kubeconfig'] }),
        ...files.map((f) => file({ path: f.path, content: f.content, mode: '0600', validate: (tmp) => sh`${CHECK} ${tmp}`, sensitive: true, notify, tags: ['kubeconfig'], title: `kubeconfig ${f.path} (${f.master})` })),
      ];
    },
    handlers: (h): Record<string, Operation> => {
      const v = (h.vars as unknown as KubeVars).kubeconfig;
      // A systemd service reloads (or restarts); a container gets SIGHUP (reload) or a restart, and
      // one that is not running yet reads the files when it starts.
      // A consumer that does not exist yet (a first run: the kubeconfigs come before keepalived) reads the
      // files when it starts: nothing to restart, and said so.
      const notYet = (r: ExecResult) => !r.stdout.includes(NOT_YET);
      return Object.fromEntries(v.consumers.map((c) => [consumerName(c), c.service
        ? command({ cmd: sh`if systemctl cat ${c.service} >/dev/null 2>&1; then systemctl ${c.action === 'restart' ? 'restart' : 'reload-or-restart'} ${c.service}; else echo ${`service ${c.service} ${NOT_YET}`}; fi`, title: `${c.action} ${c.service}`, changedWhen: notYet })
        : c.action === 'restart' ? command({ cmd: sh`if docker inspect --type container ${c.container ?? ''} >/dev/null 2>&1; then docker restart ${c.container ?? ''}; else echo ${`container ${c.container} ${NOT_YET}`}; fi`, title: `restart container ${c.container}`, changedWhen: notYet })
        : containerSignal({ name: c.container ?? '', signal: 'HUP' })]));
    },
  }],
});
