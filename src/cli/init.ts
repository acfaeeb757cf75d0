/** `lbdeploy init KIND [DIR]`: a commented, valid starting inventory and an own-playbook example. */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { INIT_EXAMPLE, OWN_PLAYBOOK, checkAnswers, parseHostList, renderInitInventory, renderOwnPlaybook } from '../init/render.js';
import { KINDS, kindNamed } from '../kinds/registry.js';
import type { InitAnswers } from '../kinds/types.js';
import { packageRoot } from '../package-root.js';
import { consoleOutput as out } from '../report/console.js';
import { asUsage, failure, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

const posix = (p: string) => p.split(sep).join('/');

/** Where the editor's schema comes from, and whether init must write a copy of it beside the inventory. */
export interface SchemaRef {
  ref: string;
  /** The schema file to copy to `ref` (inside the inventory's folder), when lbdeploy runs from a place that will not last. */
  copyFrom?: string;
}

const SCHEMA_COPY = 'lbdeploy-inventory.schema.json';

/**
 * The schema as the inventory's folder sees it. lbdeploy installed in the project (a
 * node_modules/lbdeploy above the folder): relative to that, so it follows upgrades. Run through
 * npx without an install (npx's cache, which npm may clear): a copy beside the inventory. Else (a
 * checkout, a global install): its absolute path.
 */
export function schemaRefFor(dir: string, root: string, exists: (path: string) => boolean): SchemaRef {
  for (let d = dir; ; d = dirname(d)) {
    const installed = join(d, 'node_modules', 'lbdeploy', 'dist', 'inventory.schema.json');
    if (exists(installed)) return { ref: posix(relative(dir, installed)) };
    if (dirname(d) === d) break;
  }
  const file = join(root, 'dist', 'inventory.schema.json');
  if (root.split(sep).includes('_npx')) return { ref: `./${SCHEMA_COPY}`, copyFrom: file };
  return { ref: posix(file) };
}

export async function runInit(positionals: string[], v: ValuesOf<typeof COMMANDS.init.options>): Promise<number> {
  // Learned from the registry, not written in the usage by hand.
  const templates = KINDS.filter((k) => k.init).map((k) => k.name);
  try {
    const [kindName, dirArg] = positionals;
    if (!kindName) throw new UsageError('missing KIND', { hint: `kinds with a starting inventory: ${templates.join(', ')}` });
    const kind = kindNamed(kindName);
    if (!kind?.init) {
      throw new UsageError(kind ? `the kind ${kindName} has no starting inventory yet` : `no deployment kind named '${kindName}'`, {
        hint: kind ? `start from the example in ${join(packageRoot(), 'inventory')}; init writes: ${templates.join(', ')}` : `init writes: ${templates.join(', ')}`,
      });
    }
    const dir = resolve(dirArg ?? '.');
    const answers: InitAnswers = {
      lb: v.lb ? asUsage(() => parseHostList('--lb', v.lb!)) : INIT_EXAMPLE.lb,
      backends: v.backends ? asUsage(() => parseHostList('--backends', v.backends!)) : INIT_EXAMPLE.backends,
      vip: v.vip ?? INIT_EXAMPLE.vip,
      interface: v.interface ?? INIT_EXAMPLE.interface,
      vrid: v.vrid === undefined ? INIT_EXAMPLE.vrid : Number(v.vrid),
      client: v.client ? asUsage(() => parseHostList('--client', v.client!))[0] : undefined,
    };
    if (v.client && v.client.includes(',')) throw new UsageError('--client takes one NAME=ADDRESS');
    asUsage(() => checkAnswers(answers));
    const examples = !v.lb || !v.backends || !v.vip;
    // Paths given on the command line are relative to where it runs; the inventory's, to its folder.
    const fromDir = (p?: string) => (p === undefined ? undefined : posix(relative(dir, resolve(p))) || '.');
    const inventoryFile = join(dir, 'inventory.yaml');
    const playbookFile = join(dir, OWN_PLAYBOOK);
    const existing = [inventoryFile, playbookFile].filter((f) => existsSync(f));
    if (existing.length > 0 && !v.force) throw new UsageError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: nothing written`, { hint: '--force replaces them' });
    const schema = schemaRefFor(dir, packageRoot(), existsSync);
    const inventory = renderInitInventory(kindName, kind.init, answers, { user: v.user, privateKey: fromDir(v['private-key']), knownHosts: fromDir(v['known-hosts']) }, schema.ref, examples);
    mkdirSync(join(dir, 'playbooks'), { recursive: true });
    if (schema.copyFrom) copyFileSync(schema.copyFrom, join(dir, SCHEMA_COPY));
    writeFileSync(inventoryFile, inventory);
    writeFileSync(playbookFile, renderOwnPlaybook(kind.init));
    const shown = posix(relative(process.cwd(), inventoryFile)) || inventoryFile;
    if (v.json) {
      out.line(JSON.stringify({ inventory: inventoryFile, playbook: playbookFile, schema: schema.copyFrom ? join(dir, SCHEMA_COPY) : null, examples }, null, 2));
      return EXIT.ok;
    }
    out.line(`wrote ${shown} and ${posix(relative(process.cwd(), playbookFile))}${examples ? ' (example addresses: edit them)' : ''}`
      + (schema.copyFrom ? `\nand ${SCHEMA_COPY} for your editor (lbdeploy runs from npx's cache here; \`npm install --save-dev lbdeploy\` and init again to follow upgrades)` : '')
      + `\nnext: npx lbdeploy plan ${shown}`);
    return EXIT.ok;
  } catch (e) {
    return failure(e);
  }
}
