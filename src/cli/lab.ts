/** `lbdeploy lab up | down | status [--json]` */
import { labDown, labRenewCerts, labStatus, labUp, type HostStatus } from '../lab/lab.js';
import { renewWithKubeadm } from '../lab/control-plane.js';
import { parseScale } from '../lab/scale.js';
import { consoleOutput as out, table } from '../report/console.js';
import { EXIT } from './exit-codes.js';
import { asUsage, failure, UsageError } from './common.js';
import type { COMMANDS, ValuesOf } from './specs.js';


type LabValues = ValuesOf<typeof COMMANDS.lab.sub.up.options> & ValuesOf<typeof COMMANDS.lab.sub['renew-certs']['options']>;

export async function runLab(action: 'up' | 'down' | 'status' | 'renew-certs', v: Partial<LabValues>): Promise<number> {
  const json = v.json ?? false;
  const log = (line: string) => out.error(`lab: ${line}`);
  try {
    switch (action) {
      case 'up': {
        const started = Date.now();
        const scale = v.scale !== undefined ? asUsage(() => parseScale(v.scale)) : undefined;
        const statuses = await labUp(log, undefined, { vms: v.vms ?? false, scale });
        print(statuses, json);
        if (!json) out.line(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return EXIT.ok;
      }
      case 'down':
        await labDown(log);
        out.line(json ? JSON.stringify({ down: true }) : 'lab down: no lab container or network left');
        return EXIT.ok;
      case 'status': {
        const statuses = await labStatus();
        print(statuses, json);
        return statuses.every((s) => s.ssh) ? EXIT.ok : EXIT.unreachable;
      }
      case 'renew-certs': {
        // --expired: valid until yesterday; --expires-in N: N days left; default: a year.
        if (v.expired && v['expires-in'] !== undefined) throw new UsageError('--expired and --expires-in exclude each other');
        if (v.kubeadm) {
          if (v.expired || v['expires-in'] !== undefined) throw new UsageError('--kubeadm renews for kubeadm\'s year: it takes neither --expired nor --expires-in');
          const renewed = await renewWithKubeadm(log);
          out.line(json ? JSON.stringify({ renewed }) : `kubeadm renewed every certificate on ${Object.keys(renewed).join(', ')}; admin.conf valid until ${Object.values(renewed).join(', ')}`);
          return EXIT.ok;
        }
        const days = v.expired ? -1 : v['expires-in'] !== undefined ? Number(v['expires-in']) : 365;
        if (!Number.isInteger(days)) throw new UsageError(`--expires-in takes whole days, not '${v['expires-in']}'`);
        const notAfter = await labRenewCerts({ notBeforeDays: days < 0 ? -30 : -1, notAfterDays: days }, log);
        out.line(json ? JSON.stringify({ notAfter }) : `admin.conf on every master now holds a client certificate valid until ${notAfter}`);
        return EXIT.ok;
      }
    }
  } catch (e) {
    return failure(e);
  }
}

function print(statuses: HostStatus[], json: boolean): void {
  if (json) {
    out.line(JSON.stringify(statuses, null, 2));
    return;
  }
  out.line(table(['HOST', 'ROLE', 'ADDRESS', 'CONTAINER', 'SSH', 'SYSTEM'], statuses.map((s) => [
    s.name, s.role, s.address, s.running ? 'running' : 'stopped', s.ssh ? 'ok' : 'no', s.system ?? s.error ?? '',
  ])));
}
