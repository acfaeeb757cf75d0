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
import type { BackendView, NodeProbe } from '../checks/probe.js';

export type { BackendView };
import type { Vip } from '../checks/vip.js';
import type { VrrpSegment } from '../checks/vrrp-preflight.js';

/** Audit thresholds for certificates. */
export interface AuditThresholds {
  warnDays: number;
  critDays: number;
}

/** A failover drill: break something on the VIP holder (or do planned work), measure the VIP and the traffic, put it back. */
export interface DrillSpec {
  /** The `--scenario` name, e.g. stop-keepalived, kill-haproxy, keepalived-container, reload. */
  scenario: string;
  /** What it does, for the table: "systemctl stop haproxy", "SIGKILL keepalived"... */
  title?: string;
  /** Run on the holder (on the machine running lbdeploy for `local` drills). */
  stop: ShellCommand;
  start: ShellCommand;
  /** What the VIP must do: move to another node (default), stay, or either (a process restarted faster than VRRP reacts). */
  expect?: 'move' | 'stay' | 'any';
  /** Planned work: one failed request fails the drill. */
  planned?: boolean;
  /** Stop then start on every node in turn, backups first and the holder last (a reload everywhere). */
  everyNode?: boolean;
  /** Two holders while the fault lasts is what this fault does (VRRP blocked, keepalived hung): named, not failed. */
  splitBrain?: boolean;
  /** Run stop/start on this host instead of the VIP holder (a backend taken down behind the VIP). */
  target?: Host;
  /** The fault cuts the holder off the network for this many seconds: it is not polled, and restored after. */
  cutsHolder?: number;
  /** Run only when named or with `--scenario all` (the full matrix), not by default. */
  matrix?: boolean;
  /** Instead of stop/start on the holder: commands for the machine running lbdeploy (power the holder off and on); the holder's connection is dropped first. */
  local?: (holder: Host) => { stop: ShellCommand; start: ShellCommand };
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
  /** The cluster's VRRP as keepalived will run it: what the network pre-flight probes. */
  vrrp?: VrrpSegment;
  /** Move the VIPs off a node gracefully (lower its priority) and back: `lbdeploy drain` / `undrain`. */
  drain?: { set: ShellCommand; clear: ShellCommand };
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
  /**
   * Whether it puts something in service that verify, the audit and the drills can check (a VIP, a
   * kubeconfig); baseline only prepares hosts.
   */
  serves: boolean;
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
