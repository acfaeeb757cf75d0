/**
 * Build step: standalone validators for the inventory schema and every bundled kind's vars, and the
 * editor schema (dist/inventory.schema.json). The kinds are known here, above the inventory layer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.js';
import { inventorySchema } from '../inventory/schema.js';
import { writeStandaloneValidators } from '../inventory/validators.js';
import { KINDS } from './registry.js';
import { editorSchema } from './editor-schema.js';

async function main(): Promise<void> {
  const schemas: [string, object][] = [['inventory', inventorySchema]];
  for (const k of KINDS) if (k.playbook.vars) schemas.push([`playbook ${k.playbook.name}`, k.playbook.vars]);
  // The schema itself, for editors (yaml-language-server: `# yaml-language-server: $schema=...`).
  writeFileSync(join(packageRoot(), 'dist', 'inventory.schema.json'), JSON.stringify(editorSchema(), null, 2) + '\n');
  await writeStandaloneValidators(schemas);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
