/** Static files shipped with lbdeploy (files/): scripts and unit files that playbooks install on hosts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

export function shippedFile(name: string): string {
  return readFileSync(join(packageRoot(), 'files', name), 'utf8');
}
