/**
 * IPVS virtual services, applied idempotently: read the kernel's table (`ipvsadm -Sn`) and run
 * only the ipvsadm commands that differ.
 */
import { join as joinCmd, sh } from '../connection/shell.js';
import { holdsAddress } from '../util/net.js';
import { diffIpvs, normalAddress, parseIpvsadmSave, type VirtualService } from '../render/ipvs.js';
import { IPVSADM_PERSISTENCE } from './os-family.js';
import { file } from './file.js';
import { service } from './service.js';
import { common, fact, type FactRequest, type Operation, type StepOptions, type StepPlan } from './types.js';

export interface IpvsOptions extends StepOptions {
  services: VirtualService[];
}

export const IPVS_TABLE_FACT: FactRequest = {
  key: 'ipvs:table',
  command: sh`if command -v ipvsadm >/dev/null 2>&1; then ipvsadm -Sn; else echo '@no-ipvsadm'; fi`,
};

/** Debian's /etc/default/ipvsadm that restores /etc/ipvsadm.rules at boot (write it with `file`). */
export const DEBIAN_IPVSADM_DEFAULTS = IPVSADM_PERSISTENCE.debian.config.content;

/** The kernel's table: only the ipvsadm commands that differ. Persist it with `file` + renderIpvsRules. */
export function ipvsServices(o: IpvsOptions): Operation {
  return {
    ...common('ipvs', `ipvs ${o.services.length} virtual service(s)`, o),
    facts: () => [IPVS_TABLE_FACT],
    plan: (facts, ctx): StepPlan => {
      const table = fact(facts, IPVS_TABLE_FACT.key).stdout;
      if (table.includes('@no-ipvsadm')) {
        if (ctx.check) return { kind: 'change', summary: 'program IPVS once an earlier step installs ipvsadm', script: sh`:` };
        return { kind: 'fail', message: 'ipvsadm is not installed', hint: 'install the ipvsadm package in an earlier step' };
      }
      const cmds = diffIpvs(o.services, parseIpvsadmSave(table));
      if (cmds.length === 0) return { kind: 'ok', reason: `IPVS table matches (${o.services.length} service(s))` };
      return { kind: 'change', summary: cmds.map((c) => `ipvsadm ${c.join(' ')}`).join('; '), script: joinCmd(cmds.map((c) => sh`ipvsadm ${c}`), ' && ') };
    },
  };
}

export interface AddressOptions extends StepOptions {
  /** address/prefix, e.g. 198.18.0.200/32 */
  address: string;
  device: string;
}

/** `ip addr add` for the address; an IPv6 one usable at once, without duplicate address detection (the VIP's holder is decided elsewhere). */
const addArgs = (o: AddressOptions) => ['addr', 'add', o.address, 'dev', o.device, ...(o.address.includes(':') ? ['nodad'] : [])];

/**
 * A systemd unit that puts an address back on its interface at boot (an address added with
 * `ip addr add` lives only until the next reboot). Write it with `file` and enable it with `service`.
 */
export function addressUnit(o: AddressOptions): { name: string; content: string } {
  const name = `lbdeploy-address-${o.device}-${o.address.replace(/[^0-9a-fA-F]/g, '-')}.service`;
  return {
    name,
    content: `# Managed by lbdeploy: ${o.address} on ${o.device} at boot.
[Unit]
Description=lbdeploy: address ${o.address} on ${o.device}
After=network.target
Wants=network.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'ip -o addr show dev ${o.device} | grep -q " ${normalAddress(o.address.split('/')[0]!)}/" || ip ${addArgs(o).join(' ')}'

[Install]
WantedBy=multi-user.target
`,
  };
}

/** An address on an interface (the DR director's VIP, or a real server's VIP on lo). */
export function address(o: AddressOptions): Operation {
  const req: FactRequest = { key: `addr:${o.device}`, command: sh`ip -o addr show dev ${o.device}` };
  return {
    ...common('address', `address ${o.address} on ${o.device}`, o),
    facts: () => [req],
    plan: (facts) => {
      const f = fact(facts, req.key);
      if (f.code !== 0) return { kind: 'fail', message: `no interface ${o.device}`, hint: 'check the interface name (ip -o link)' };
      if (holdsAddress(f.stdout, o.address.split('/')[0]!)) return { kind: 'ok', reason: `${o.address} is on ${o.device}` };
      return { kind: 'change', summary: `add ${o.address} to ${o.device}`, script: sh`ip ${addArgs(o)}` };
    },
  };
}

/**
 * An address on an interface now and at every boot: the address itself, its unit (addressUnit) and
 * the unit enabled. The director's VIP (seed 003) and the real servers' VIPs on lo both use it.
 */
export function persistentAddress(o: AddressOptions): Operation[] {
  const unit = addressUnit(o);
  return [
    address(o),
    file({ path: `/etc/systemd/system/${unit.name}`, content: unit.content, tags: o.tags }),
    // systemd reads a new unit file on demand: `enable` needs no daemon-reload.
    service({ name: unit.name, enabled: true, tags: o.tags }),
  ];
}
