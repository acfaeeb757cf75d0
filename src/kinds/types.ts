/**
 * A deployment kind is one unit: its playbook (with its vars schema and plan-time checks), and
 * what it deployed as data: the nodes, their read-only probes, the checks those probes feed
 * (readiness after `up`, `verify` and `audit` share them), the requests that prove it end to
 * end, its failover drills and its Kubernetes manifests. The commands ask the registry for the
 * kinds the inventory's playbooks declare and know nothing else of them.
 */
import type { ShellCommand } from '../connection/shell.js';
import type { Host, Inventory } from '../inventory/model.js';
import type { FactRequest } from '../operations/types.js';
import type { HostInfo, Playbook } from '../playbook/define.js';
import type { Check } from '../checks/check.js';
import type { EndToEnd } from '../checks/curl.js';
import type { NodeProbe } from '../checks/probe.js';
import type { Vip } from '../checks/vip.js';

/** Audit thresholds for certificates. */
export interface AuditThresholds {
  warnDays: number;
  critDays: number;
}

/** A failover drill: stop something on the VIP holder, measure the VIP move, start it again. */
export interface DrillSpec {
  /** The `--scenario` name, e.g. keepalived, haproxy, keepalived-container. */
  scenario: string;
  stop: ShellCommand;
  start: ShellCommand;
}

/** A backend as one node sees it (haproxy's stats socket, the IPVS table): for the audit's topology picture. */
export interface BackendView {
  /** The haproxy backend, or the virtual service (ADDRESS:PORT). */
  service: string;
  /** The server as the inventory names it. */
  server: string;
  state: 'up' | 'down' | 'other';
  /** What the node reported, e.g. "UP", "DOWN", "MAINT", "not in the IPVS table". */
  detail: string;
}

/** One thing a kind deployed, e.g. one VRRP cluster and its VIPs. */
export interface Deployment {
  kind: string;
  /** For messages: which cluster, which VIPs. */
  name: string;
  /** The hosts it runs on (probed, drilled). */
  nodes: Host[];
  vips: Vip[];
  /** Where requests through the VIPs come from (verify_from, else the first host of `clients`). */
  client?: Host;
  /** Read-only facts from every node, gathered with all others in one round trip per host. */
  probes: FactRequest[];
  /** Pure: the nodes' probes in, checks out. All ok = ready. */
  evaluate(probes: ReadonlyMap<string, NodeProbe>): Check[];
  /** Pure: the backends as one node's probe shows them (the audit's picture); absent when the kind has none to show. */
  backends?(probe: NodeProbe): BackendView[];
  /** Services to prove through the VIPs from the client (verify, audit). */
  endToEnd: EndToEnd[];
  drills: DrillSpec[];
  /** Kubernetes objects to apply (YAML documents), if the deployment asks for any. */
  manifests?: string[];
  /** What only the audit reads (e.g. certificate expiry), with its thresholds. */
  audit?: { probes: FactRequest[]; evaluate(probes: ReadonlyMap<string, NodeProbe>, t: AuditThresholds): Check[] };
}

export interface DeploymentContext {
  inventory: Inventory;
  /** Every inventory host, with the kind playbook's resolved vars (schema defaults) where it targets the host. */
  hosts: readonly HostInfo[];
  /** The hosts the kind's playbook targets. */
  targeted: ReadonlySet<string>;
}

export interface Kind {
  name: string;
  playbook: Playbook;
  /** Asynchronous set-up awaited before `deployments` (a large library loaded only when the kind is used). */
  load?: () => Promise<void>;
  /** What the inventory deployed with this kind; [] when its vars are absent. */
  deployments(ctx: DeploymentContext): Deployment[];
  /** The starting inventory `lbdeploy init KIND` writes, if the kind has one. */
  init?: InitTemplate;
}

export interface InitHost {
  name: string;
  address: string;
}

/** What `lbdeploy init` fills in: the operator's answers, or documentation-range examples. */
export interface InitAnswers {
  lb: InitHost[];
  backends: InitHost[];
  vip: string;
  interface: string;
  vrid: number;
  /** The host that proves the VIP end to end (verify_from), if given. */
  client?: InitHost;
}

export interface InitTemplate {
  /** One line for `lbdeploy init --help`. */
  summary: string;
  /** The groups the kind reads: its LB nodes and their backends. */
  groups: { lb: string; backends: string };
  /** The inventory's `playbook:` entries before the operator's own playbook. */
  playbooks: string[];
  /** The body of `vars:` (indented two spaces), commented for the operator. */
  vars(a: InitAnswers): string;
}

/** Inventory hosts by name, for a kind that computed names from resolved vars. */
export function hostsNamed(inv: Inventory, names: Iterable<string>): Host[] {
  const wanted = new Set(names);
  return inv.hosts.filter((h) => wanted.has(h.name));
}

/** The client for end-to-end requests: verify_from, else the first host of `clients`. */
export function clientHost(inv: Inventory, verifyFrom: string | undefined): Host | undefined {
  return verifyFrom ? inv.hosts.find((h) => h.name === verifyFrom) : inv.hosts.find((h) => h.groups.includes('clients'));
}
