/** `lbdeploy schema`: the JSON Schema editors check inventories with (inventory plus the kinds' vars). */
import { editorSchema } from '../kinds/editor-schema.js';
import { consoleOutput as out } from '../report/console.js';
import { failure } from './common.js';
import { EXIT } from './exit-codes.js';

export async function runSchema(): Promise<number> {
  try {
    out.line(JSON.stringify(editorSchema(), null, 2));
    return EXIT.ok;
  } catch (e) {
    return failure(e);
  }
}
