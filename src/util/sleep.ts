/** Wait this many milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
