/** Find a playbook by name (a bundled one, from the registry the caller hands down) or by path (a user's .ts file, loaded at run time). */
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { LbdeployError } from '../errors.js';
import type { Playbook } from './define.js';

export class PlaybookError extends LbdeployError {}

/** The playbooks known by name (the kinds' registry gives them; this layer does not know the kinds). */
export interface BundledPlaybooks {
  named(name: string): Playbook | undefined;
  names(): string[];
}

let registered = false;

/**
 * tsx compiles an operator's .ts playbook on the fly (loaded only when one is used), registered
 * for the whole process and not namespaced: the playbook's `import ... from 'lbdeploy'` then is the
 * engine's own instance. Our hook after it makes the playbook an ES module in a CommonJS project too.
 */
async function registerTypeScript(): Promise<void> {
  if (registered) return;
  (await import('tsx/esm/api')).register();
  // From source (the tests run src/ through tsx) the hooks are TypeScript too.
  register(new URL(import.meta.url.endsWith('.ts') ? './esm-hooks.ts' : './esm-hooks.js', import.meta.url));
  registered = true;
}

export async function loadPlaybook(ref: string, baseDir: string, bundled: BundledPlaybooks, where?: string): Promise<Playbook> {
  const looksLikePath = ref.endsWith('.ts') || ref.endsWith('.js') || ref.includes('/');
  let file: string | undefined;
  if (looksLikePath) {
    const p = isAbsolute(ref) ? ref : resolve(baseDir, ref);
    const alt = isAbsolute(ref) ? ref : resolve(process.cwd(), ref);
    file = existsSync(p) ? p : existsSync(alt) ? alt : undefined;
    if (!file) throw new PlaybookError(`playbook file ${ref} not found`, { where, hint: 'paths are relative to the inventory file (or the working folder)' });
  } else {
    const pb = bundled.named(ref);
    if (!pb) throw new PlaybookError(`no playbook named '${ref}'`, { where, hint: `bundled playbooks: ${bundled.names().join(', ')}; or give a path to a .ts file` });
    return pb;
  }
  if (file.endsWith('.ts')) await registerTypeScript();
  const mod = (await import(pathToFileURL(file).href)) as { default?: Playbook };
  const pb = mod.default;
  if (!pb || typeof pb !== 'object' || !Array.isArray(pb.plays) || typeof pb.name !== 'string') {
    throw new PlaybookError(`${file} does not export a playbook as its default export`, { where, hint: 'write `export default definePlaybook({ ... })`' });
  }
  return pb;
}
