/** `lbdeploy image build [--tag T] [--save FILE]`: the OCI image the printed CronJob runs. */
import { resolve } from 'node:path';
import { buildImage } from '../image/build.js';
import { rootfsCacheDir } from '../image/rootfs.js';
import { consoleOutput as out } from '../report/console.js';
import { failure } from './common.js';
import { EXIT } from './exit-codes.js';
import type { COMMANDS, ValuesOf } from './specs.js';

export async function runImage(_positionals: string[], v: ValuesOf<typeof COMMANDS.image.sub.build.options>): Promise<number> {
  try {
    const r = await buildImage(rootfsCacheDir(), (line) => out.error(`image: ${line}`), { tag: v.tag, save: v.save ? resolve(v.save) : undefined });
    if (v.json) out.line(JSON.stringify({ tag: r.tag, seconds: Math.round(r.seconds), saved: r.saved ?? null }));
    else out.line(`built ${r.tag} in ${r.seconds.toFixed(0)} s${r.saved ? `, saved to ${r.saved}` : ''}\nthe CronJob: lbdeploy audit INVENTORY --print-schedule --image REGISTRY/${r.tag}`);
    return EXIT.ok;
  } catch (e) {
    return failure(e);
  }
}
