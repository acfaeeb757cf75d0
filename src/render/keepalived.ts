/** keepalived.conf: a typed model and a pure renderer (seed 000 / 001 shapes). */
import { revealText } from '../inventory/secret.js';
import type { Secret } from '../inventory/secret.js';

export interface KeepalivedGlobal {
  routerId: string;
  /** `script_user` + `enable_script_security`: scripts run as this user, and must not be writable by others. */
  scriptUser?: string;
  enableScriptSecurity?: boolean;
  vrrpSkipCheckAdvAddr?: boolean;
  vrrpStrict?: boolean;
  vrrpGarpInterval?: number;
  vrrpGnaInterval?: number;
  /** VRRP version 2 (default) or 3. */
  vrrpVersion?: 2 | 3;
  /** The iptables chain for VIP rules (keepalived 1.x; 2.x warns and wants nftables). */
  vrrpIptables?: string;
  /** Seconds after becoming MASTER before the second burst of gratuitous ARPs / unsolicited NAs (0: none). */
  vrrpGarpMasterDelay?: number;
  /** How many gratuitous ARPs / NAs each burst sends. */
  vrrpGarpMasterRepeat?: number;
  /** Seconds between periodic refreshes of gratuitous ARPs / NAs while MASTER (0: none). */
  vrrpGarpMasterRefresh?: number;
  /** Gratuitous ARPs / NAs sent again when a lower-priority advert shows a second master (split brain ending). */
  vrrpGarpLowerPrioRepeat?: number;
  /** A master that sees a higher-priority advert sends one of its own before it steps down, so the other re-announces the VIP last. */
  vrrpHigherPrioSendAdvert?: boolean;
  /** IPVS connection state synchronised between directors: master on the node where the instance is MASTER, backup elsewhere. */
  lvsSyncDaemon?: { interface: string; instance: string; id?: number };
  /** SMTP alerts: who gets them, from whom, through which server (instances opt in with smtpAlert). */
  smtp?: { server: string; from: string; to: string[]; connectTimeout?: number };
  /** Raw lines at the end of global_defs (checked by keepalived -t with the rest). */
  extra?: string[];
}

/** `track_file`: a number in a file, times the weight, changes the priority (drain without a reload). */
export interface TrackFile {
  name: string;
  file: string;
  weight: number;
  /** Written at start-up when the file does not exist. */
  initValue?: number;
}

export interface VrrpScript {
  name: string;
  script: string;
  interval: number;
  /** Priority change while failing (negative lowers); 0/absent puts the instance in FAULT. */
  weight?: number;
  fall?: number;
  rise?: number;
  timeout?: number;
}

export interface VirtualAddress {
  /** address/prefix, e.g. 198.18.0.100/24 */
  address: string;
  dev?: string;
  label?: string;
}

export interface VrrpInstance {
  name: string;
  state: 'MASTER' | 'BACKUP';
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertInt: number;
  authentication?: { type: 'PASS' | 'AH'; pass: string | Secret };
  unicastSrcIp?: string;
  unicastPeers?: string[];
  virtualAddresses: VirtualAddress[];
  trackScripts?: string[];
  nopreempt?: boolean;
  garpMasterDelay?: number;
  /** Interfaces whose failure puts the instance in FAULT. */
  trackInterfaces?: string[];
  trackFiles?: string[];
  /** Seconds a preempting node waits past the advert timeout before it takes the VIP back. */
  preemptDelay?: number;
  /** A script keepalived runs on every state change (INSTANCE NAME STATE PRIORITY appended). */
  notify?: string;
  /** Commands run on entering each state (notify_master, notify_backup, notify_fault, notify_stop). */
  notifyOn?: { master?: string; backup?: string; fault?: string; stop?: string };
  /** Send an SMTP alert on state changes (global smtp settings). */
  smtpAlert?: boolean;
  /** The source address of multicast adverts. */
  mcastSrcIp?: string;
  /** Raw lines at the end of the instance (checked by keepalived -t with the rest). */
  extra?: string[];
}

/** An IPVS virtual server that keepalived programs and health-checks (seed 002). */
export interface VirtualServerBlock {
  address: string;
  port: number;
  /** Lines inside `virtual_server { }`: delay_loop, lb_algo, lb_kind, protocol... (from the inventory). */
  config: string;
  /** A `#` line above the block, e.g. the Kubernetes service it serves. */
  comment?: string;
  realServers: { address: string; port: number; weight?: number; check?: string }[];
}

export interface KeepalivedConfig {
  global: KeepalivedGlobal;
  scripts: VrrpScript[];
  trackFiles?: TrackFile[];
  instances: VrrpInstance[];
  virtualServers?: VirtualServerBlock[];
}

/** Re-indent a block of raw config lines (as written in YAML `|` text) by `depth` levels. */
function indented(text: string, depth: number): string[] {
  let level = depth;
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('}')) level--;
    out.push(`${'    '.repeat(Math.max(level, 0))}${line}`);
    if (line.endsWith('{')) level++;
  }
  return out;
}

const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

/** global_defs: the router id, script security, VRRP and GARP settings, SMTP, raw lines. */
function globalDefs(g: KeepalivedGlobal): string[] {
  const out: string[] = ['global_defs {', `    router_id ${g.routerId}`];
  if (g.scriptUser) out.push(`    script_user ${g.scriptUser}`);
  if (g.enableScriptSecurity) out.push('    enable_script_security');
  if (g.vrrpSkipCheckAdvAddr) out.push('    vrrp_skip_check_adv_addr');
  if (g.vrrpStrict) out.push('    vrrp_strict');
  if (g.vrrpGarpInterval !== undefined) out.push(`    vrrp_garp_interval ${g.vrrpGarpInterval}`);
  if (g.vrrpGnaInterval !== undefined) out.push(`    vrrp_gna_interval ${g.vrrpGnaInterval}`);
  if (g.vrrpVersion !== undefined) out.push(`    vrrp_version ${g.vrrpVersion}`);
  if (g.vrrpIptables !== undefined) out.push(`    vrrp_iptables ${g.vrrpIptables}`);
  if (g.vrrpGarpMasterDelay !== undefined) out.push(`    vrrp_garp_master_delay ${g.vrrpGarpMasterDelay}`);
  if (g.vrrpGarpMasterRepeat !== undefined) out.push(`    vrrp_garp_master_repeat ${g.vrrpGarpMasterRepeat}`);
  if (g.vrrpGarpMasterRefresh !== undefined) out.push(`    vrrp_garp_master_refresh ${g.vrrpGarpMasterRefresh}`);
  if (g.vrrpGarpLowerPrioRepeat !== undefined) out.push(`    vrrp_garp_lower_prio_repeat ${g.vrrpGarpLowerPrioRepeat}`);
  if (g.vrrpHigherPrioSendAdvert) out.push('    vrrp_higher_prio_send_advert');
  if (g.lvsSyncDaemon) out.push(`    lvs_sync_daemon ${g.lvsSyncDaemon.interface} ${g.lvsSyncDaemon.instance}${g.lvsSyncDaemon.id !== undefined ? ` id ${g.lvsSyncDaemon.id}` : ''}`);
  if (g.smtp) {
    out.push('    notification_email {', ...g.smtp.to.map((t) => `        ${t}`), '    }', `    notification_email_from ${g.smtp.from}`, `    smtp_server ${g.smtp.server}`);
    if (g.smtp.connectTimeout !== undefined) out.push(`    smtp_connect_timeout ${g.smtp.connectTimeout}`);
  }
  for (const line of g.extra ?? []) out.push(`    ${line.trim()}`);
  out.push('}');
  return out;
}

/** One vrrp_instance block. */
function instanceBlock(i: VrrpInstance): string[] {
  const out: string[] = [`vrrp_instance ${i.name} {`, `    state ${i.state}`, `    interface ${i.interface}`,
    `    virtual_router_id ${i.virtualRouterId}`, `    priority ${i.priority}`, `    advert_int ${i.advertInt}`];
  if (i.nopreempt) out.push('    nopreempt');
  if (i.preemptDelay !== undefined) out.push(`    preempt_delay ${i.preemptDelay}`);
  if (i.garpMasterDelay !== undefined) out.push(`    garp_master_delay ${i.garpMasterDelay}`);
  if (i.trackInterfaces && i.trackInterfaces.length > 0) out.push('    track_interface {', ...i.trackInterfaces.map((t) => `        ${t}`), '    }');
  if (i.authentication) {
    out.push('    authentication {', `        auth_type ${i.authentication.type}`, `        auth_pass ${revealText(i.authentication.pass)}`, '    }');
  }
  if (i.mcastSrcIp) out.push(`    mcast_src_ip ${i.mcastSrcIp}`);
  if (i.unicastSrcIp) out.push(`    unicast_src_ip ${i.unicastSrcIp}`);
  if (i.unicastPeers && i.unicastPeers.length > 0) out.push('    unicast_peer {', ...i.unicastPeers.map((p) => `        ${p}`), '    }');
  out.push('    virtual_ipaddress {');
  for (const v of i.virtualAddresses) {
    out.push(`        ${v.address}${v.dev ? ` dev ${v.dev}` : ''}${v.label ? ` label ${v.label}` : ''}`);
  }
  out.push('    }');
  if (i.trackScripts && i.trackScripts.length > 0) out.push('    track_script {', ...i.trackScripts.map((t) => `        ${t}`), '    }');
  if (i.trackFiles && i.trackFiles.length > 0) out.push('    track_file {', ...i.trackFiles.map((t) => `        ${t}`), '    }');
  if (i.notify) out.push(`    notify ${q(i.notify)}`);
  for (const [state, cmd] of Object.entries(i.notifyOn ?? {})) if (cmd) out.push(`    notify_${state} ${q(cmd)}`);
  if (i.smtpAlert) out.push('    smtp_alert');
  for (const line of i.extra ?? []) out.push(`    ${line.trim()}`);
  out.push('}');
  return out;
}

export function renderKeepalived(c: KeepalivedConfig): string {
  const out: string[] = ['! Managed by lbdeploy: changes here are overwritten.', ...globalDefs(c.global)];
  for (const s of c.scripts) {
    out.push('', `vrrp_script ${s.name} {`, `    script ${q(s.script)}`, `    interval ${s.interval}`);
    if (s.timeout !== undefined) out.push(`    timeout ${s.timeout}`);
    if (s.weight !== undefined) out.push(`    weight ${s.weight}`);
    if (s.fall !== undefined) out.push(`    fall ${s.fall}`);
    if (s.rise !== undefined) out.push(`    rise ${s.rise}`);
    out.push('}');
  }
  for (const f of c.trackFiles ?? []) {
    out.push('', `track_file ${f.name} {`, `    file ${q(f.file)}`, `    weight ${f.weight}`);
    if (f.initValue !== undefined) out.push(`    init_file ${f.initValue}`);
    out.push('}');
  }
  for (const i of c.instances) out.push('', ...instanceBlock(i));
  for (const v of c.virtualServers ?? []) {
    out.push('', ...(v.comment ? [`# ${v.comment}`] : []), `virtual_server ${v.address} ${v.port} {`, ...indented(v.config, 1));
    for (const r of v.realServers) {
      out.push(`    real_server ${r.address} ${r.port} {`, `        weight ${r.weight ?? 1}`, ...(r.check ? indented(r.check, 2) : []), '    }');
    }
    out.push('}');
  }
  return out.join('\n') + '\n';
}
