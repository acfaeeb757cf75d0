/** Process exit codes: one table for every command, printed by `lbdeploy --help` and in the README. */
export const EXIT = {
  ok: 0,
  failed: 1,
  attention: 2,
  usage: 3,
  invalidInput: 4,
  unreachable: 5,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Each code: its name in JSON errors, and what it means. */
export const EXIT_TABLE: readonly { code: ExitCode; name: string; meaning: string }[] = [
  { code: EXIT.ok, name: 'ok', meaning: 'done; every check ok; plan --detailed-exitcode: nothing to change' },
  { code: EXIT.failed, name: 'failed', meaning: 'a step, check or drill failed; a run lock refused; audit: something critical' },
  { code: EXIT.attention, name: 'attention', meaning: 'plan --detailed-exitcode: changes pending; audit: warnings, nothing critical' },
  { code: EXIT.usage, name: 'usage', meaning: 'the command line is wrong (unknown command or option, a bad value)' },
  { code: EXIT.invalidInput, name: 'invalid-input', meaning: 'the inventory or a playbook is invalid (nothing was connected)' },
  { code: EXIT.unreachable, name: 'unreachable', meaning: 'a host could not be reached (connect, authenticate)' },
  { code: EXIT.interrupted, name: 'interrupted', meaning: 'interrupted (Ctrl-C): each file old or new, locks released' },
];

export function exitName(code: number): string {
  return EXIT_TABLE.find((e) => e.code === code)?.name ?? 'failed';
}

export function exitTable(): string {
  return `Exit codes:\n${EXIT_TABLE.map((e) => `  ${String(e.code).padStart(3)}  ${e.name.padEnd(13)} ${e.meaning}`).join('\n')}`;
}
