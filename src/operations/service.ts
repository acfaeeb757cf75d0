/** systemd services: enabled at boot, started/stopped; restarted or reloaded (usually from handlers). */
import { join, sh, type ShellCommand } from '../connection/shell.js';
import { common, fact, type FactGroup, type FactRequest, type Operation, type StepOptions } from './types.js';

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
  return { key: `unit:${name}`, command: sh`systemctl show -p LoadState -p ActiveState -p UnitFileState ${name}`, group: { ...UNIT_GROUP, arg: name } };
}

/** Several units' state from one systemctl (it prints a block per unit, in order, blank-line separated). */
const UNIT_GROUP: Omit<FactGroup, 'arg'> = {
  id: 'unit',
  command: (names) => sh`systemctl show -p LoadState -p ActiveState -p UnitFileState ${names}`,
  split(stdout, names, code) {
    if (code !== 0) return `exit ${code}`;
    const blocks = stdout.replace(/\n+$/, '').split(/\n\n/);
    return blocks.length === names.length ? blocks.map((b) => ({ stdout: `${b}\n`, code: 0 })) : `${blocks.length} blocks for ${names.length} units`;
  },
};

/**
 * `systemctl is-active NAME` as a probe; several of a batch share one systemctl, which prints a
 * line per unit (its own exit code says only whether any is active, so each unit's is from its line).
 */
export function activeRequest(name: string): FactRequest {
  return { key: name, command: sh`systemctl is-active ${name}`, group: { ...ACTIVE_GROUP, arg: name } };
}

const ACTIVE_GROUP: Omit<FactGroup, 'arg'> = {
  id: 'is-active',
  command: (names) => sh`systemctl is-active ${names}`,
  split(stdout, names) {
    const lines = stdout.replace(/\n+$/, '').split('\n');
    // systemctl is-active: 0 active, 3 not active (inactive, failed, activating...), 4 no such unit.
    return lines.length === names.length && lines.every((l) => /^[a-z-]+$/.test(l))
      ? lines.map((l) => ({ stdout: `${l}\n`, code: l === 'active' ? 0 : 3 }))
      : `${lines.length} lines for ${names.length} units`;
  },
};

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
