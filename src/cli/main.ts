#!/usr/bin/env node
/** lbdeploy command line: dispatches to one file per subcommand. */
import { packageVersion } from '../package-root.js';
import { consoleOutput as out, formatError } from '../report/console.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

const USAGE = `lbdeploy: highly-available load balancers for Kubernetes, over plain SSH

Usage: lbdeploy <command> [options]

Commands:
  up INVENTORY          converge every host to the inventory (the inventory's playbook, or --playbook)
  plan INVENTORY        what would change, with diffs (= up --check --diff)
  hosts INVENTORY       resolved hosts, groups, connection settings and vars (secrets masked)
  facts INVENTORY       what each host is (OS, kernel, package manager, addresses)
  rotate-kubeconfig INVENTORY   admin.conf from the masters to the LB nodes, certificates checked and proven
  audit INVENTORY       scheduled health audit (table, JSON, JUnit, Prometheus, HTML); --install-timer
  verify INVENTORY      prove it works: one VIP holder, backends UP or ipvsadm -ln as inventoried, curl through the VIP
  failover-test INVENTORY   a drill: stop keepalived / haproxy / the keepalived container on the holder, time the VIP move
  manifest INVENTORY    the Kubernetes Service with the VIP as externalIP (seed 003), for kubectl apply -f -
  init KIND [DIR]       a commented starting inventory for a kind and a playbook of your own
  image build           lbdeploy's own OCI image (pinned, offline), for the audit CronJob
  schema                the inventory JSON Schema (with the kinds' vars) for editors
  lab up|down|status    the local multi-host lab (real sshd/systemd hosts in containers)

Options:
  -h, --help            show this help
  -v, --version         print the version

${USAGES.up}\n${USAGES.hosts}\n${USAGES.facts}\n${USAGES.verify}\n${USAGES.failover}\n${USAGES.manifest}\n${USAGES.audit}\n${USAGES.init}\n\n${USAGES.lab}\n\nExit codes: 0 ok, 1 failed, 2 unreachable, 3 usage, 4 invalid input, 130 interrupted`;


export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    out.line(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    out.line(packageVersion());
    return EXIT.ok;
  }
  switch (command) {
    // Each command loads only its own modules: start-up time is part of every run.
    case 'up':
      return (await import('./up.js')).runUp(rest, 'up');
    case 'plan':
      return (await import('./up.js')).runUp(rest, 'plan');
    case 'hosts':
      return (await import('./hosts.js')).runHosts(rest);
    case 'facts':
      return (await import('./facts.js')).runFacts(rest);
    case 'rotate-kubeconfig':
      return (await import('./up.js')).runUp(['--playbook', 'kubeconfig', ...rest], 'up', 'rotate-kubeconfig');
    case 'audit':
      return (await import('./audit.js')).runAudit(rest);
    case 'verify':
      return (await import('./verify.js')).runVerify(rest);
    case 'manifest':
      return (await import('./manifest.js')).runManifest(rest);
    case 'failover-test':
      return (await import('./failover.js')).runFailover(rest);
    case 'init':
      return (await import('./init.js')).runInit(rest);
    case 'image':
      return (await import('./image.js')).runImage(rest);
    case 'schema':
      return (await import('./schema.js')).runSchema(rest);
    case 'lab':
      return (await import('./lab.js')).runLab(rest);
    default:
      out.error(`lbdeploy: unknown command '${command}'\n\n${USAGE}`);
      return EXIT.usage;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    out.error(formatError(e));
    process.exitCode = EXIT.failed;
  },
);
