/** `lbdeploy image build [--tag T] [--save FILE]`: the OCI image the printed CronJob runs. */
import { resolve } from 'node:path';
import { buildImage } from '../image/build.js';
import { rootfsCacheDir } from '../image/rootfs.js';
import { consoleOutput as out } from '../report/console.js';
import { failure, parse, UsageError } from './common.js';
import { EXIT } from './exit-codes.js';
import { USAGES } from './usage.js';

export async function runImage(args: string[]): Promise<number> {
  try {
    const parsed = parse(args, { tag: { type: 'string' }, save: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, USAGES.image);
    if (!parsed) return EXIT.ok;
    const [sub, extra] = parsed.positionals;
    if (sub !== 'build' || extra !== undefined) throw new UsageError(sub === undefined ? 'missing subcommand' : `unknown subcommand '${[sub, extra].filter(Boolean).join(' ')}'`, { hint: USAGES.image.split('\n')[0] });
    const r = await buildImage(rootfsCacheDir(), (line) => out.error(`image: ${line}`), { tag: parsed.values.tag, save: parsed.values.save ? resolve(parsed.values.save) : undefined });
    out.line(`built ${r.tag} in ${r.seconds.toFixed(0)} s${r.saved ? `, saved to ${r.saved}` : ''}\nthe CronJob: lbdeploy audit INVENTORY --print-schedule --image REGISTRY/${r.tag}`);
    return EXIT.ok;
  } catch (e) {
    return failure(e);
  }
}
