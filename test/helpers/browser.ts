/** Headless Chromium for the HTML report: the DOM after rendering, a screenshot, and what colours the screenshot shows. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';

function chromium(profileDir: string, args: string[]): string {
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${join(profileDir, 'profile')}`, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`chromium did not run (apt-get install chromium): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The DOM after Chromium rendered the file. */
export const dumpDom = (dir: string, file: string) => chromium(dir, ['--dump-dom', `file://${file}`]);

/** A PNG of the page, `width` wide and tall enough for all of it. */
export function screenshot(dir: string, file: string, png: string, width = 1000, height = 2600): PNG {
  chromium(dir, [`--window-size=${width},${height}`, `--screenshot=${png}`, `file://${file}`]);
  return PNG.sync.read(readFileSync(png));
}

const hex = (c: string) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

/**
 * Down one column of pixels, the runs of at least `minRun` rows in one of the named colours (within
 * a small tolerance): what a stack of filled boxes at that x shows, top to bottom.
 */
export function colourRuns(img: PNG, x: number, colours: Record<string, string>, minRun = 30): { name: string; top: number; rows: number }[] {
  const want = Object.entries(colours).map(([name, c]) => [name, hex(c)] as const);
  const at = (y: number) => {
    const i = (y * img.width + x) * 4;
    const px = [img.data[i]!, img.data[i + 1]!, img.data[i + 2]!];
    return want.find(([, c]) => c.every((v, k) => Math.abs(v - px[k]!) <= 3))?.[0];
  };
  const runs: { name: string; top: number; rows: number }[] = [];
  let current: { name: string; top: number; rows: number } | undefined;
  for (let y = 0; y < img.height; y++) {
    const name = at(y);
    if (current && name === current.name) {
      current.rows++;
      continue;
    }
    if (current && current.rows >= minRun) runs.push(current);
    current = name ? { name, top: y, rows: 1 } : undefined;
  }
  if (current && current.rows >= minRun) runs.push(current);
  return runs;
}
