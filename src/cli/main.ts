#!/usr/bin/env node
/** lbdeploy command line: dispatches to one file per subcommand. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../lab/state.js';
import { consoleOutput as out, formatError } from '../report/console.js';
import { EXIT } from './exit-codes.js';
import { LAB_USAGE, runLab } from './lab.js';

const USAGE = `lbdeploy: highly-available load balancers for Kubernetes, over plain SSH

Usage: lbdeploy <command> [options]

Commands:
  lab up|down|status    the local multi-host lab (real sshd/systemd hosts in containers)

Options:
  -h, --help            show this help
  -v, --version         print the version

${LAB_USAGE}`;

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    out.line(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '-v' || command === '--version') {
    out.line(version());
    return EXIT.ok;
  }
  switch (command) {
    case 'lab':
      return runLab(rest);
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
