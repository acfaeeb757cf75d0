/**
 * Every command's arguments and options, in one place: the command parser (program.ts), the help,
 * the shell completion and each command's typed values are all made from these. Loading this file
 * loads no command's modules (`--help` and completion stay fast).
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One letter: `-l` for --limit. */
  short?: string;
  /** The value's name in the help: `--wait SECONDS`. */
  value?: string;
  help: string;
  /** Shown in the help, and the value when the option is not given. */
  default?: string;
  /** May be given more than once (each value kept). */
  multiple?: boolean;
  /** The only values accepted (the parser refuses others, completion offers them). */
  choices?: readonly string[];
  /** What completion offers where the parser takes more (audit's -o: a format, or an older timer's file). */
  suggest?: readonly string[];
  /** Accepted (an older spelling), not shown in the help. */
  hidden?: boolean;
}

export interface ArgumentSpec {
  name: string;
  help: string;
  required: boolean;
  /** HOST... : one or more. */
  variadic?: boolean;
  /** What completion offers: a file, a host of the inventory given before it, a kind, a shell. */
  complete?: 'file' | 'dir' | 'host' | 'kind' | readonly string[];
}

export interface CommandSpec {
  summary: string;
  args: readonly ArgumentSpec[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Prose after the options in `--help`. */
  help?: string;
  /** Subcommands (`lab up`, `image build`): the command itself takes none of its own arguments. */
  sub?: Readonly<Record<string, CommandSpec>>;
  hidden?: boolean;
}

/** A command's values, typed from its options: a string option with a default is always set. */
export type ValuesOf<O extends Readonly<Record<string, OptionSpec>>> = {
  [K in keyof O]: O[K]['type'] extends 'boolean'
    ? boolean | undefined
    : O[K]['multiple'] extends true
      ? string[] | undefined
      : O[K] extends { default: string } ? string : string | undefined;
};

const INVENTORY: ArgumentSpec = { name: 'INVENTORY', help: 'the inventory file (YAML)', required: true, complete: 'file' };

/** `-o json` (and the older --json): every command but completion has it. */
const OUTPUT = {
  output: { type: 'string', short: 'o', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json; with json, errors are JSON too (code, exit, message, where, hint)' },
  json: { type: 'boolean', hidden: true, help: '= -o json' },
} as const;

const LIMIT = { type: 'string', short: 'l', value: 'PATTERN', help: 'only these hosts or groups (comma-separated; name, group or glob)' } as const;
const FORKS = { type: 'string', short: 'f', value: 'N', default: '20', help: 'hosts worked on, and SSH connections open, at once' } as const;
const LOCK_WAIT = { type: 'string', value: 'SECONDS', default: '0', help: "how long to wait for another run's lock on a host (0: refuse at once)" } as const;
const HISTORY = { type: 'string', value: 'FILE|none', help: "the inventory's history (JSON lines; default under $XDG_STATE_HOME/lbdeploy/history/)" } as const;

const UP_OPTIONS = {
  playbook: { type: 'string', short: 'p', value: 'NAME|FILE', multiple: true, help: "run this playbook instead of the inventory's (repeatable)" },
  check: { type: 'boolean', short: 'C', help: 'change nothing: say what would change' },
  diff: { type: 'boolean', short: 'D', help: 'show the diff of every file that changes' },
  limit: LIMIT,
  tags: { type: 'string', short: 't', value: 'T1,T2', help: 'only the steps with these tags' },
  'skip-tags': { type: 'string', value: 'T1,T2', help: 'not the steps with these tags' },
  forks: FORKS,
  'allow-reboot': { type: 'boolean', help: 'let a step reboot a host that needs it (a kernel module, say)' },
  wait: { type: 'string', value: 'SECONDS', help: 'after the change, wait up to this long until it serves (default 120)' },
  'no-wait': { type: 'boolean', help: 'return as soon as the hosts converged' },
  'lock-wait': LOCK_WAIT,
  'no-preflight': { type: 'boolean', help: "skip the VRRP pre-flight before keepalived's VRIDs change" },
  serial: { type: 'string', value: 'N|P%', help: 'rolling: N clusters (or P% of them) a batch, backups before the VIP holder, a health gate after each' },
  'max-fail': { type: 'string', value: 'N', help: 'with --serial: failed batches tolerated before the rollout stops (default 0)' },
  timings: { type: 'boolean', help: 'where the time went: connect, authenticate, lock, facts, apply, handlers, wait (phase totals, slowest hosts); always in -o json' },
  ...OUTPUT,
} as const;

const PLAN_OPTIONS = {
  ...UP_OPTIONS,
  'detailed-exitcode': { type: 'boolean', help: 'exit 0 when nothing would change, 2 when changes are pending, 1 on failure (as terraform plan)' },
} as const;

const { playbook: _playbook, ...ROTATE_OPTIONS } = UP_OPTIONS;

const AUDIT_FORMATS = ['table', 'json', 'junit', 'prometheus'] as const;

export const COMMANDS = {
  up: {
    summary: "converge every host to the inventory (the inventory's playbook, or --playbook)",
    args: [INVENTORY],
    options: UP_OPTIONS,
    help: 'By default up waits until the deployments serve (VRRP elected, backends up), and refuses a host another\nrun holds. With --serial a failed batch stops the rollout and says how to resume.',
  },
  plan: {
    summary: 'what would change, with diffs (= up --check --diff); takes no lock',
    args: [INVENTORY],
    options: PLAN_OPTIONS,
  },
  'rotate-kubeconfig': {
    summary: 'admin.conf from the masters to the LB nodes, certificates checked and proven',
    args: [INVENTORY],
    options: ROTATE_OPTIONS,
    help: "= up --playbook kubeconfig: with consumers, one LB node at a time, the VIP holder last.",
  },
  hosts: {
    summary: 'resolved hosts, groups, connection settings and vars (secrets masked)',
    args: [INVENTORY],
    options: { limit: LIMIT, ...OUTPUT },
  },
  facts: {
    summary: 'what each host is (OS, kernel, package manager, addresses)',
    args: [INVENTORY],
    options: { limit: LIMIT, forks: FORKS, ...OUTPUT },
  },
  verify: {
    summary: 'prove it works: one VIP holder, backends as inventoried, requests through each VIP',
    args: [INVENTORY],
    options: { 'host-timeout': { type: 'string', value: 'SECONDS', default: '15', help: 'a host not answered by then is a failed check' }, forks: FORKS, ...OUTPUT },
    help: 'Exit 1 unless every check is ok.',
  },
  'failover-test': {
    summary: 'drills under load: faults on the VIP holder and planned work; VIP move, outage, failed/total, p50/p99',
    args: [INVENTORY],
    options: {
      scenario: { type: 'string', value: 'default|all|list|NAME,...', default: 'default', help: 'which drills (list: each with what it does)' },
      'max-move': { type: 'string', value: 'SECONDS', default: '5', help: 'a VIP that takes longer to move fails the drill' },
      rate: { type: 'string', value: 'N', default: '200', help: 'requests a second through each VIP during a drill' },
      timeout: { type: 'string', value: 'SECONDS', default: '1', help: 'a request not answered by then failed' },
      'power-off': { type: 'string', value: 'CMD', help: 'power drill: run on this machine ({host}, {address})' },
      'power-on': { type: 'string', value: 'CMD', help: 'the way back from --power-off' },
      'lock-wait': LOCK_WAIT,
      forks: FORKS,
      history: HISTORY,
      ...OUTPUT,
    },
    help: 'Load through every VIP from the client (h2load) while a fault hits the VIP holder; measures the VIP move,\nthe time until requests succeed again, failed/total, p50/p99; restores the node and verifies. Each drill is\nappended to the history (the audit reads its trends).',
  },
  preflight: {
    summary: 'VRRP passes between the LB nodes, and no foreign router holds their VRIDs',
    args: [INVENTORY],
    options: { listen: { type: 'string', value: 'SECONDS', default: '3', help: 'how long each node listens for VRRP' }, forks: FORKS, ...OUTPUT },
    help: 'Per VRRP cluster: each node listens for IP protocol 112 while every node sends its peers a marked probe.\nA pair that cannot hear each other, and a foreign router advertising a VRID of the cluster, are errors\n(exit 1). Needs socat on the nodes. up runs it before it changes keepalived (--no-preflight skips it).',
  },
  drain: {
    summary: 'move the VIPs off HOST gracefully (priority to the floor, no reload); undrain puts it back',
    args: [INVENTORY, { name: 'HOST', help: 'the LB node to drain', required: true, complete: 'host' }],
    options: { wait: { type: 'string', value: 'SECONDS', default: '60', help: 'how long to wait until another node serves each VIP' }, ...OUTPUT },
    help: 'HOST stays drained (a later up keeps it so) until undrain.',
  },
  undrain: {
    summary: "put a drained HOST's VRRP priority back",
    args: [INVENTORY, { name: 'HOST', help: 'the LB node to put back', required: true, complete: 'host' }],
    options: { wait: { type: 'string', value: 'SECONDS', default: '60', help: 'how long to wait until every VIP has one holder' }, ...OUTPUT },
  },
  unlock: {
    summary: 'free a run lock whose run is gone (ends the holder process on the host)',
    args: [INVENTORY, { name: 'HOST', help: 'hosts whose lock to free', required: true, variadic: true, complete: 'host' }],
    options: { ...OUTPUT },
    help: 'A run lock is released when its run ends or its connection drops; one whose run is gone (after a network\ncut) stays. If that run is in fact still going, it then changes the host without a lock: a warning says so.',
  },
  manifest: {
    summary: 'the Kubernetes objects the inventory asks for (the Service with the VIP, ipvs-dr), for kubectl apply -f -',
    args: [INVENTORY],
    options: { output: { type: 'string', short: 'o', value: 'FORMAT', choices: ['yaml', 'json'], help: 'yaml (default) or json (one object, or a List)' }, json: { type: 'boolean', hidden: true, help: '= -o json' } },
  },
  audit: {
    summary: 'scheduled health audit (table, JSON, JUnit, Prometheus, HTML); --install-timer, --serve',
    args: [INVENTORY],
    options: {
      output: { type: 'string', short: 'o', value: 'FORMAT', suggest: AUDIT_FORMATS, help: `${AUDIT_FORMATS.join('|')} (default table)` },
      format: { type: 'string', hidden: true, help: '= --output' },
      json: { type: 'boolean', hidden: true, help: '= -o json' },
      'output-file': { type: 'string', value: 'FILE', help: 'write the report here (atomically) instead of stdout' },
      html: { type: 'string', value: 'FILE', help: 'also a self-contained HTML report' },
      'warn-days': { type: 'string', value: 'DAYS', default: '30', help: 'a certificate expiring sooner is a warning' },
      'crit-days': { type: 'string', value: 'DAYS', default: '7', help: 'a certificate expiring sooner is critical' },
      'host-timeout': { type: 'string', value: 'SECONDS', default: '10', help: 'a host not answered by then is critical' },
      'no-drift': { type: 'boolean', help: 'skip comparing the hosts to the inventory' },
      history: HISTORY,
      forks: FORKS,
      'install-timer': { type: 'boolean', help: 'install a systemd service and timer running this audit' },
      'print-schedule': { type: 'boolean', help: 'print a crontab line and a Kubernetes CronJob running it' },
      every: { type: 'string', value: 'PERIOD', default: '15m', help: 'with --install-timer or --print-schedule: how often' },
      image: { type: 'string', value: 'REF', help: 'with --print-schedule: the CronJob image (default lbdeploy:VERSION)' },
      'textfile-dir': { type: 'string', value: 'DIR', default: '/var/lib/node_exporter/textfile_collector', help: "with --install-timer: node_exporter's textfile directory" },
      'unit-dir': { type: 'string', value: 'DIR', default: '/etc/systemd/system', help: 'with --install-timer: where the units go' },
      serve: { type: 'string', value: 'ADDRESS:PORT', help: 'run as a Prometheus exporter (/metrics, /healthz)' },
      interval: { type: 'string', value: 'SECONDS', help: 'with --serve: seconds between audits (default 60)' },
    },
    help: 'Read-only on the hosts. Exit 0 healthy, 2 warnings only, 1 critical. Each audit is appended to the\ninventory\'s history: the report\'s trends and drill gauges read it.',
  },
  init: {
    summary: 'a commented starting inventory for a kind and a playbook of your own',
    args: [{ name: 'KIND', help: 'a bundled kind with a starting inventory', required: true, complete: 'kind' }, { name: 'DIR', help: 'where to write (default .)', required: false, complete: 'dir' }],
    options: {
      lb: { type: 'string', value: 'NAME=ADDR,...', help: 'the LB nodes' },
      backends: { type: 'string', value: 'NAME=ADDR,...', help: 'the backends' },
      client: { type: 'string', value: 'NAME=ADDR', help: 'a host the checks send requests from' },
      vip: { type: 'string', value: 'ADDR/PREFIX', help: 'the virtual address' },
      interface: { type: 'string', value: 'IF', help: "the LB nodes' interface for the VIP" },
      vrid: { type: 'string', value: 'N', help: 'the VRRP router id (1-255)' },
      user: { type: 'string', value: 'USER', default: 'root', help: 'the SSH user' },
      'private-key': { type: 'string', value: 'FILE', help: 'the SSH key (default: ssh-agent, ~/.ssh/config, default identities)' },
      'known-hosts': { type: 'string', value: 'FILE', help: 'known_hosts file' },
      force: { type: 'boolean', help: 'replace existing files' },
      ...OUTPUT,
    },
    help: 'Writes DIR/inventory.yaml (commented, with the schema modeline for editors) and DIR/playbooks/site.ts.\nWithout --lb/--backends/--vip: documentation addresses (192.0.2.0/24) to replace.',
  },
  image: {
    summary: "lbdeploy's own OCI image (pinned, offline), for the audit CronJob",
    args: [],
    options: {},
    sub: {
      build: {
        summary: 'build the image (Debian base, this node, the package and its dependencies)',
        args: [],
        options: { tag: { type: 'string', value: 'TAG', help: 'default lbdeploy:VERSION' }, save: { type: 'string', value: 'FILE.tar', help: 'also write a docker save archive' }, ...OUTPUT },
      },
    },
  },
  schema: {
    summary: 'the inventory JSON Schema (with the kinds\' vars) for editors and CI checks',
    args: [],
    options: { ...OUTPUT },
  },
  lab: {
    summary: 'the local multi-host lab (real sshd/systemd hosts in containers)',
    args: [],
    options: {},
    sub: {
      up: {
        summary: 'install what the lab needs, build images (cached), start the hosts',
        args: [],
        options: {
          vms: { type: 'boolean', help: 'also the VM tier (lbvm1, lbvm2: qemu, real IPVS)' },
          scale: { type: 'string', value: 'N', help: 'also N light LB hosts (2-100, even) in clusters of two on 198.18.4.0/22' },
          ...OUTPUT,
        },
      },
      down: { summary: 'remove every lab container and network (images stay cached)', args: [], options: { ...OUTPUT } },
      status: { summary: 'each host, its address, and whether SSH answers (exit 5 if one does not)', args: [], options: { ...OUTPUT } },
      'renew-certs': {
        summary: "re-issue the masters' admin client certificate",
        args: [],
        options: {
          kubeadm: { type: 'boolean', help: 'renew as an operator does: `kubeadm certs renew all` on each master, its control plane restarted, one master at a time' },
          expired: { type: 'boolean', help: 'valid until yesterday' },
          'expires-in': { type: 'string', value: 'DAYS', help: 'days left (default 365)' },
          ...OUTPUT,
        },
      },
    },
  },
  completion: {
    summary: 'the shell completion script: eval "$(lbdeploy completion bash)" (or zsh)',
    args: [{ name: 'SHELL', help: 'bash or zsh', required: true, complete: ['bash', 'zsh'] }],
    options: {},
    help: 'bash: add `eval "$(lbdeploy completion bash)"` to ~/.bashrc; zsh: `eval "$(lbdeploy completion zsh)"` to ~/.zshrc.\nCompletes commands, options, option values, inventory files and, after an inventory, its hosts.',
  },
} as const satisfies Record<string, CommandSpec>;

export const AUDIT_FORMAT_NAMES: readonly string[] = AUDIT_FORMATS;

export type CommandName = keyof typeof COMMANDS;
