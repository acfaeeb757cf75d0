/**
 * The layers of src/ (docs/architecture.md): every import between folders points down the table
 * below, no module imports itself back through others, and only the CLI's `lab` command reaches
 * into the lab. A new arrow upwards fails here with the file that drew it.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

/** Lowest first; a folder may import its own layer's folders and any layer below. */
export const LAYERS: readonly (readonly string[])[] = [
  ['util', 'errors', 'yaml', 'package-root', 'shell-local', 'files'],
  ['image'],
  ['inventory'],
  ['connection'],
  ['report'],
  ['kube'],
  ['render'],
  ['operations'],
  ['facts'],
  ['checks'],
  ['playbook'],
  ['lb-blocks'],
  ['kinds'],
  ['execute'],
  ['audit'],
  ['init'],
  ['cli', 'index'],
];

/** Beside the product: it may use the layers below, and only these files may import it. */
const LAB = 'lab';
const LAB_IMPORTERS = ['src/cli/lab.ts'];

const ROOT = 'src';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The folder (or top-level module) a file belongs to: src/kinds/x/y.ts -> kinds, src/errors.ts -> errors. */
const unit = (file: string) => relative(ROOT, file).split('/')[0]!.replace(/\.ts$/, '');

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/g)) {
    out.push(normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  }
  for (const m of text.matchAll(/import\('(\.[^']+)'\)/g)) out.push(normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
  return out;
}

describe('architecture: one-way imports between the layers of src/', () => {
  const all = files(ROOT);
  const graph = new Map(all.map((f) => [f, imports(f).filter((t) => all.includes(t))]));
  const layerOf = new Map(LAYERS.flatMap((names, i) => names.map((n) => [n, i] as const)));

  it('every folder of src/ has a layer (or is the lab)', () => {
    const units = [...new Set(all.map(unit))];
    assert.deepEqual(units.filter((u) => u !== LAB && !layerOf.has(u)), []);
  });

  it('no import climbs a layer', () => {
    const up: string[] = [];
    for (const [from, tos] of graph) {
      const a = unit(from);
      for (const to of tos) {
        const b = unit(to);
        if (a === b || b === LAB || a === LAB) continue;
        if (layerOf.get(b)! > layerOf.get(a)!) up.push(`${from} -> ${to} (${a} -> ${b})`);
      }
    }
    assert.deepEqual(up, []);
  });

  it('the lab: only the lab command imports it, and it uses only the layers below the engine', () => {
    const into = [...graph].filter(([from, tos]) => unit(from) !== LAB && tos.some((t) => unit(t) === LAB)).map(([f]) => f);
    assert.deepEqual(into.filter((f) => !LAB_IMPORTERS.includes(f)), []);
    const labUses = new Set([...graph].filter(([from]) => unit(from) === LAB).flatMap(([, tos]) => tos.map(unit)).filter((u) => u !== LAB));
    const allowed = layerOf.get('connection')!;
    assert.deepEqual([...labUses].filter((u) => layerOf.get(u)! > allowed), []);
  });

  it('no import cycle between modules', () => {
    const cycles: string[][] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t]);
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of all) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles.map((c) => c.join(' -> ')), []);
  });

  it('the kind registry is handed down: inventory, playbook and checks never import kinds', () => {
    const bad = [...graph].filter(([from, tos]) => ['inventory', 'playbook', 'checks'].includes(unit(from)) && tos.some((t) => unit(t) === 'kinds'));
    assert.deepEqual(bad.map(([f]) => f), []);
  });
});
