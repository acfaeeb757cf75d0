/** systemd services: enabled at boot, started/stopped; restarted or reloaded (usually from handlers). */
import { join, sh, type ShellCommand } from '../connection/shell.js';
import { common, fact, type FactRequest, type Operation, type StepOptions } from './types.js';

export interface ServiceOptions extends StepOptions {
  name: string;
  enabled?: boolean;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
}

export interface UnitState {
  load: string;
  active: string;
  unitFile: string;
}

export function unitRequest(name: string): FactRequest {
  return { key: `unit:${name}`, command: sh`systemctl show -p LoadState -p ActiveState -p UnitFileState ${name}` };
}

export function parseUnit(stdout: string): UnitState {
  const kv = Object.fromEntries(stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
  return { load: kv.LoadState ?? 'unknown', active: kv.ActiveState ?? 'unknown', unitFile: kv.UnitFileState ?? '' };
}

export function service(o: ServiceOptions): Operation {
  const req = unitRequest(o.name);
  return {
    ...common('service', `service ${o.name}${o.state ? ' ' + o.state : ''}`, o),
    facts: () => [req],
    plan: (facts, ctx) => {
      const u = parseUnit(fact(facts, req.key).stdout);
      if (u.load === 'not-found') {
        // In check mode the package that brings the unit may be "installed" by an earlier step.
        if (ctx.check) return { kind: 'change', summary: `set up ${o.name} once an earlier step installs its unit`, script: sh`:` };
        return { kind: 'fail', message: `systemd unit ${o.name} not found`, hint: 'install the package that provides it in an earlier step' };
      }
      const cmds: ShellCommand[] = [];
      const what: string[] = [];
      if (o.enabled === true && !['enabled', 'static', 'alias', 'indirect'].includes(u.unitFile)) {
        cmds.push(sh`systemctl enable ${o.name}`);
        what.push('enable');
      }
      if (o.enabled === false && u.unitFile === 'enabled') {
        cmds.push(sh`systemctl disable ${o.name}`);
        what.push('disable');
      }
      const active = u.active === 'active' || u.active === 'reloading' || u.active === 'activating';
      switch (o.state) {
        case 'started':
          if (!active) cmds.push(sh`systemctl start ${o.name}`), what.push('start');
          break;
        case 'stopped':
          if (active) cmds.push(sh`systemctl stop ${o.name}`), what.push('stop');
          break;
        case 'restarted':
          cmds.push(sh`systemctl restart ${o.name}`), what.push('restart');
          break;
        case 'reloaded':
          cmds.push(active ? sh`systemctl reload ${o.name}` : sh`systemctl start ${o.name}`), what.push(active ? 'reload' : 'start');
          break;
      }
      if (cmds.length === 0) return { kind: 'ok', reason: `${o.name} is ${u.active}${o.enabled !== undefined ? `, ${u.unitFile}` : ''}` };
      // A failed start says why: the unit's last log lines come back in the error.
      const script = sh`${join(cmds, ' && ')} || { rc=$?; systemctl status --no-pager -n 5 ${o.name} >&2; exit $rc; }`;
      return { kind: 'change', summary: `${o.name}: ${what.join(', ')}`, script };
    },
  };
}
