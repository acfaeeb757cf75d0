/** Find a playbook by name (playbooks/) or by path (a user's .ts file, loaded at run time). */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LbdeployError } from '../errors.js';
import { packageRoot } from '../lab/state.js';
import type { Playbook } from './define.js';

export class PlaybookError extends LbdeployError {}

export function bundledPlaybookNames(): string[] {
  const dir = join(packageRoot(), 'playbooks');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort() : [];
}

export async function loadPlaybook(ref: string, baseDir: string, where?: string): Promise<Playbook> {
  const looksLikePath = ref.endsWith('.ts') || ref.endsWith('.js') || ref.includes('/');
  let file: string | undefined;
  if (looksLikePath) {
    const p = isAbsolute(ref) ? ref : resolve(baseDir, ref);
    const alt = isAbsolute(ref) ? ref : resolve(process.cwd(), ref);
    file = existsSync(p) ? p : existsSync(alt) ? alt : undefined;
    if (!file) throw new PlaybookError(`playbook file ${ref} not found`, { where, hint: 'paths are relative to the inventory file (or the working folder)' });
  } else {
    const root = packageRoot();
    const compiled = join(root, 'dist', 'playbooks', `${ref}.js`);
    const source = join(root, 'playbooks', `${ref}.ts`);
    file = existsSync(compiled) ? compiled : existsSync(source) ? source : undefined;
    if (!file) {
      throw new PlaybookError(`no playbook named '${ref}'`, { where, hint: `bundled playbooks: ${bundledPlaybookNames().join(', ')}; or give a path to a .ts file` });
    }
  }
  // tsx compiles a user's .ts playbook on the fly; loaded only when one is used.
  const mod = (file.endsWith('.ts')
    ? await (await import('tsx/esm/api')).tsImport(pathToFileURL(file).href, import.meta.url)
    : await import(pathToFileURL(file).href)) as { default?: Playbook };
  const pb = mod.default;
  if (!pb || typeof pb !== 'object' || !Array.isArray(pb.plays) || typeof pb.name !== 'string') {
    throw new PlaybookError(`${file} does not export a playbook as its default export`, { where, hint: 'write `export default definePlaybook({ ... })`' });
  }
  return pb;
}
