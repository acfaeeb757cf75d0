/**
 * The schema editors check inventories with (`lbdeploy schema`, dist/inventory.schema.json, the
 * modeline `lbdeploy init` writes): the inventory's own schema with every level's `vars` knowing
 * the bundled kinds' vars, so yaml-language-server completes and checks them. A var is replaced
 * whole by a lower level (no deep merge), so each level takes a kind's var schema as it is.
 */
import { KINDS } from './registry.js';
import { inventorySchema } from '../inventory/schema.js';

type Json = Record<string, unknown>;

export function kindVarProperties(): Json {
  const props: Json = {};
  for (const k of KINDS) {
    const own = (k.playbook.vars as { properties?: Json } | undefined)?.properties ?? {};
    for (const [name, schema] of Object.entries(own)) if (!(name in props)) props[name] = { ...(schema as Json), description: describe(schema as Json, k.name) };
  }
  return props;
}

function describe(schema: Json, kind: string): string {
  const own = typeof schema.description === 'string' ? `${schema.description} ` : '';
  return `${own}(${kind})`;
}

/** A deep copy of the inventory schema whose `vars` (inventory, group, host) list the kinds' vars. */
export function editorSchema(): Json {
  const vars = { type: 'object', description: 'variables; values may be secrets (!secret)', properties: kindVarProperties() };
  // `vars` sits under a `properties` object wherever the inventory allows it.
  const swap = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(swap);
    if (!node || typeof node !== 'object') return node;
    const out: Json = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === 'properties' && v && typeof v === 'object' && 'vars' in v
        ? Object.fromEntries(Object.entries(v).map(([p, s]) => [p, p === 'vars' ? vars : swap(s)]))
        : swap(v);
    }
    return out;
  };
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(swap(inventorySchema) as Json), title: 'lbdeploy inventory' };
}
