/** `lbdeploy schema`: the JSON Schema editors check inventories with (inventory plus the kinds' vars). */
import { editorSchema } from '../kinds/editor-schema.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, parse, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runSchema(args: string[]): Promise<number> {
  try {
    const parsed = parse(args, { help: { type: 'boolean', short: 'h' } }, USAGES.schema);
    if (!parsed) return EXIT.ok;
    if (parsed.positionals.length > 0) return failure(new UsageError(`unexpected argument '${parsed.positionals[0]}'`));
    out.line(JSON.stringify(editorSchema(), null, 2));
    return EXIT.ok;
  } catch (e) {
    return failure(e);
  }
}
