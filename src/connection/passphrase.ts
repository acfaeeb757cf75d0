/**
 * A key's passphrase typed on the terminal, asked once per key file for the whole run (hosts
 * connect in parallel: the prompts come one at a time). Never echoed, never logged.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

const asked = new Map<string, Promise<string | undefined>>();
let queue: Promise<unknown> = Promise.resolve();

/** The passphrase for `keyPath` from the terminal, or undefined when there is none (CI, a pipe). */
export function askPassphrase(keyPath: string): Promise<string | undefined> {
  let p = asked.get(keyPath);
  if (!p) {
    p = (queue = queue.then(() => prompt(`Enter passphrase for key '${keyPath}': `), () => undefined)) as Promise<string | undefined>;
    asked.set(keyPath, p);
  }
  return p;
}

async function prompt(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  let muted = false;
  const output = new Writable({ write: (chunk, _enc, done) => (muted ? done() : process.stderr.write(chunk, done)) });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}
