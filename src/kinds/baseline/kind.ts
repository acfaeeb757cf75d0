/** baseline as a deployment kind: packages, kernel settings and logging; nothing serves, so nothing to wait for or verify. */
import type { Kind } from '../types.js';
import playbook from './playbook.js';

export const baseline: Kind = { name: 'baseline', playbook, serves: false, deployments: () => [] };
