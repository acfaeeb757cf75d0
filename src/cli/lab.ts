/** `lbdeploy lab up | down | status [--json]` */
import { labDown, labRenewCerts, labStatus, labUp, type HostStatus } from '../lab/lab.js';
import { parseScale } from '../lab/scale.js';
import { consoleOutput as out, table } from '../report/console.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';


export async function runLab(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const json = rest.includes('--json');
  const log = (line: string) => out.error(`lab: ${line}`);
  switch (action) {
    case 'up': {
      const started = Date.now();
      const at = rest.indexOf('--scale');
      const scale = at >= 0 ? parseScale(rest[at + 1]) : undefined;
      const statuses = await labUp(log, undefined, { vms: rest.includes('--vms'), scale });
      print(statuses, json);
      if (!json) out.line(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return EXIT.ok;
    }
    case 'down':
      await labDown(log);
      if (!json) out.line('lab down: no lab container or network left');
      return EXIT.ok;
    case 'status': {
      const statuses = await labStatus();
      print(statuses, json);
      return statuses.every((s) => s.ssh) ? EXIT.ok : EXIT.unreachable;
    }
    case 'renew-certs': {
      // --expired: valid until yesterday; --expires-in N: N days left; default: a year.
      const days = rest.includes('--expired') ? -1 : rest.includes('--expires-in') ? Number(rest[rest.indexOf('--expires-in') + 1]) : 365;
      if (!Number.isFinite(days)) {
        out.error(USAGES.lab);
        return EXIT.usage;
      }
      const notAfter = await labRenewCerts({ notBeforeDays: days < 0 ? -30 : -1, notAfterDays: days }, log);
      if (!json) out.line(`admin.conf on every master now holds a client certificate valid until ${notAfter}`);
      return EXIT.ok;
    }
    default:
      out.error(USAGES.lab);
      return EXIT.usage;
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
