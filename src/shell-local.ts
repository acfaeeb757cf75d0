/** The one door to zx: local commands on the machine that runs lbdeploy (the lab, installing timers). */
export { $ } from 'zx';
export type { ProcessOutput } from 'zx';
