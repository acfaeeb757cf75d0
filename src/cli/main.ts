#!/usr/bin/env node
/** lbdeploy command line: the command tree is program.ts; each command has its own file. */
import { failure } from './common.js';
import { quietOnClosedPipe } from './pipe.js';
import { run } from './program.js';

quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.exitCode = failure(e);
  },
);
