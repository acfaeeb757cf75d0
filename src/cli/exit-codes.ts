/** Process exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  failed: 1,
  unreachable: 2,
  usage: 3,
  invalidInput: 4,
  interrupted: 130,
} as const;
