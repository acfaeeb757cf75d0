/**
 * Output whose reader went away (`lbdeploy schema | head`, a closed pager): the rest of the output is
 * dropped and the command finishes its work and exits with its own code. It never crashes with EPIPE,
 * and a run changing hosts is never cut short because nobody reads its progress any more.
 */
export function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    closed(stream);
  });
}

function closed(stream: NodeJS.WriteStream): void {
  // Later writes go nowhere; a write's callback still runs, so code waiting on it goes on.
  stream.write = ((_chunk: unknown, encoding?: unknown, cb?: unknown) => {
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stream.write;
}
