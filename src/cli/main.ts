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
  failover-test INVENTORY   drills under load: faults on the VIP holder and planned work; VIP move, outage, failed/total, p50/p99
  preflight INVENTORY   VRRP passes between the LB nodes, and no foreign router holds their VRIDs
  drain INVENTORY HOST  move the VIPs off HOST gracefully (priority to the floor, no reload); undrain puts it back
  unlock INVENTORY HOST free a run lock whose run is gone (ends the holder's process on the host)
  manifest INVENTORY    the Kubernetes Service with the VIP as externalIP (ipvs-dr), for kubectl apply -f -
  init KIND [DIR]       a commented starting inventory for a kind and a playbook of your own
  image build           lbdeploy's own OCI image (pinned, offline), for the audit CronJob
  schema                the inventory JSON Schema (with the kinds' vars) for editors
  lab up|down|status    the local multi-host lab (real sshd/systemd hosts in containers)

Options:
  -h, --help            show this help
  -v, --version         print the version

${USAGES.up}\n${USAGES.hosts}\n${USAGES.facts}\n${USAGES.verify}\n${USAGES.failover}\n${USAGES.preflight}\n${USAGES.drain}\n${USAGES.undrain}\n${USAGES.unlock}\n${USAGES.manifest}\n${USAGES.audit}\n${USAGES.init}\n\n${USAGES.lab}\n\nExit codes: 0 ok, 1 failed, 2 unreachable, 3 usage, 4 invalid input, 130 interrupted`;


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
      return (await import('./facts.js')).runFactsCommand(rest);
    case 'rotate-kubeconfig':
      return (await import('./up.js')).runUp(['--playbook', 'kubeconfig', ...rest], 'up', 'rotate-kubeconfig');
    case 'audit':
      return (await import('./audit.js')).runAudit(rest);
    case 'preflight':
      return (await import('./preflight.js')).runPreflight(rest);
    case 'drain':
      return (await import('./drain.js')).runDrain(rest, false);
    case 'undrain':
      return (await import('./drain.js')).runDrain(rest, true);
    case 'unlock':
      return (await import('./unlock.js')).runUnlock(rest);
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
