/** Playbooks in TypeScript: a name, a schema for the vars they read, and plays of typed steps. */
import type { Host } from '../inventory/model.js';
import type { FactRequest, FactResult, Operation } from '../operations/types.js';
import type { ShellCommand } from '../connection/shell.js';
import type { ExecResult } from '../connection/ssh.js';

/** What a play's steps see of the host they are planned for. */
export interface HostContext {
  name: string;
  address: string;
  groups: readonly string[];
  /** The host's vars after precedence and the playbook schema's defaults. */
  vars: Record<string, unknown>;
  /** Every host the run knows, for peer lists (e.g. unicast peers). */
  inventory: readonly HostInfo[];
}

export interface HostInfo {
  name: string;
  address: string;
  groups: readonly string[];
  vars: Readonly<Record<string, unknown>>;
}

export interface Play {
  name: string;
  /**
   * A host pattern: group or host names, globs, `!exclude` (see --limit). A function of a host's
   * vars (as written, before the schema's defaults) names the pattern from a var, e.g. lb_group:
   * the play runs on each host that its own pattern selects.
   */
  hosts: string | ((vars: Readonly<Record<string, unknown>>) => string);
  /** Hosts per batch; a batch finishes before the next starts. Default: all at once. */
  serial?: number;
  /** Order hosts before batching. Default: inventory order. */
  order?: (hosts: readonly HostInfo[]) => HostInfo[];
  /**
   * A read-only probe gathered from every host of the play (in the same round trip as its facts)
   * before any step runs, and the batches built from it, e.g. backups first, the VIP holder last.
   */
  probe?: FactRequest;
  batches?: (hosts: readonly HostInfo[], probes: ReadonlyMap<string, FactResult>) => HostInfo[][];
  /**
   * A VIP holder about to take a disruptive change (a step with `disruptive`) is drained first: `set`,
   * then `moved` until it exits 0 (its VIPs are held elsewhere), the steps and handlers, then `clear`.
   */
  drain?: (host: HostContext) => { set: ShellCommand; clear: ShellCommand; moved: ShellCommand; holds: (probe: FactResult) => boolean };
  steps: (host: HostContext) => Operation[];
  /** Run at the end of the play on hosts where a step notified them (by name); per host when a function. */
  handlers?: Record<string, Operation> | ((host: HostContext) => Record<string, Operation>);
}

export interface PlaybookIssue {
  /** The host whose vars are at fault (for the file:line:col), or undefined for the first targeted host. */
  host?: string;
  /** Path inside the vars, e.g. ['keepalived', 'instances', 0, 'auth_pass']. */
  path: (string | number)[];
  message: string;
  hint?: string;
}

/** What a playbook's `prepare` may do: read-only commands on any inventory host, before any step. */
export interface PrepareContext {
  /** Every inventory host, with the playbook's resolved vars where it targets the host. */
  hosts: readonly HostInfo[];
  /** The hosts this run changes (after --limit and a rollout's batch): what a prepare asks about its own targets. */
  runHosts: ReadonlySet<string>;
  /** Run a read-only command on a host (through the run's one connection, with become). */
  run(host: string, command: ShellCommand): Promise<ExecResult>;
  /** Mask a value found on a host (a key, a token) in every output from now on. */
  secret(value: string): void;
  check: boolean;
  /** The inventory file's folder: relative paths in vars (e.g. an image archive) resolve from here. */
  inventoryDir: string;
}

export interface PrepareResult {
  /** Extra vars per host name, merged over the host's vars for planning its steps. */
  vars?: Record<string, Record<string, unknown>>;
  /** Lines to show in the run's output (and its JSON events). */
  notes?: string[];
  /** Refusals: the run stops before any step, nothing changes. */
  errors?: { host?: string; message: string; hint?: string }[];
}

export interface Playbook {
  name: string;
  /**
   * The deployment kind whose checks, drills and manifests apply (verify, audit, failover-test,
   * manifest, `up`'s readiness wait); default: the kind named like the playbook, if any. An own
   * playbook that deploys, say, haproxy-keepalived's vars sets `kind: 'haproxy-keepalived'`.
   */
  kind?: string;
  description?: string;
  /** JSON Schema (an object schema) for the vars the playbook reads; defaults are applied. */
  vars?: object;
  /**
   * Asynchronous set-up awaited before the vars are checked and any step is planned: load a large
   * library here (with import()) when only this playbook uses it, so other runs start faster.
   */
  load?: () => Promise<void>;
  /** Checks across hosts that a schema cannot express, run before anything connects. */
  check?: (hosts: readonly HostInfo[]) => PlaybookIssue[];
  /** Gather data from hosts (read-only) before planning, e.g. kubeconfigs from the masters. */
  prepare?: (ctx: PrepareContext) => Promise<PrepareResult>;
  plays: Play[];
}

/** Declare a playbook (identity, for type checking and a stable public shape). */
export function definePlaybook(p: Playbook): Playbook {
  return p;
}

export function hostInfo(h: Host): HostInfo {
  return { name: h.name, address: h.address, groups: h.groups, vars: h.vars };
}
