/**
 * Shell quoting for POSIX sh. Every command lbdeploy sends to a host is built with `sh`,
 * a tagged template that quotes each interpolated value, never by string concatenation.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one value so that sh reads it back as exactly one word, byte for byte. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s === '') return "''";
  if (SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Registered symbol: commands built by another copy of this module (a playbook loaded from source) are recognised too. */
const BRAND = Symbol.for('lbdeploy.ShellCommand');

/** A command whose interpolations were quoted; `raw` marks pre-built fragments. */
export class ShellCommand {
  readonly [BRAND] = true;
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export function isShellCommand(v: unknown): v is ShellCommand {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
}

export type ShellArg = string | number | ShellCommand | readonly (string | number)[];

/**
 * `sh\`cp ${src} ${dst}\`` quotes src and dst; an array becomes several quoted words;
 * a ShellCommand (from `sh` or `raw`) is inserted as it is.
 */
export function sh(strings: TemplateStringsArray, ...args: ShellArg[]): ShellCommand {
  let out = strings[0] ?? '';
  args.forEach((arg, i) => {
    out += render(arg) + (strings[i + 1] ?? '');
  });
  return new ShellCommand(out);
}

function render(arg: ShellArg): string {
  if (isShellCommand(arg)) return arg.text;
  if (Array.isArray(arg)) return arg.map((a) => quote(a)).join(' ');
  return quote(arg as string | number);
}

/** Insert trusted text unquoted (a fixed operator or a command built elsewhere with `sh`). */
export function raw(text: string): ShellCommand {
  return new ShellCommand(text);
}

/** Join commands with a separator (`; `, ` && `, a newline). */
export function join(commands: readonly ShellCommand[], separator = '\n'): ShellCommand {
  return new ShellCommand(commands.map((c) => c.text).join(separator));
}
