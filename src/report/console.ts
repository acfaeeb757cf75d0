/** The one place that writes to the terminal for commands without a run (lab, help, errors). */
import { LbdeployError } from '../errors.js';

export interface Output {
  line(text: string): void;
  error(text: string): void;
}

export const consoleOutput: Output = {
  line: (text) => process.stdout.write(text + '\n'),
  error: (text) => process.stderr.write(text + '\n'),
};

/** Render rows as an aligned text table with a header. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: readonly string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

export function formatError(e: unknown): string {
  if (e instanceof LbdeployError) return `error: ${e.format()}`;
  const proc = e as { exitCode?: number | null; stderr?: string };
  if (typeof proc.stderr === 'string' && proc.exitCode !== undefined) {
    // A failed local command (zx): its own words, without a JavaScript stack.
    return `error: a local command failed (exit ${proc.exitCode}): ${proc.stderr.trim()}`;
  }
  if (e instanceof Error) return `error: ${e.message}`;
  return `error: ${String(e)}`;
}
