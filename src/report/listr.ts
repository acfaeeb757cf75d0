/** Live progress on a terminal with listr2 (the only module that imports it): one task per host. */
import { Listr, type ListrTaskWrapper } from 'listr2';
import type { Reporter, RunEvent } from './events.js';
import { plainLines, type Write } from './render.js';

interface HostTask {
  task?: ListrTaskWrapper<unknown, never, never>;
  done: () => void;
  fail: (e: Error) => void;
  finished: Promise<void>;
}

export function listrProgress(write: Write): Reporter {
  const hosts = new Map<string, HostTask>();
  const after: RunEvent[] = [];
  const summary = plainLines(write);
  let run: Promise<unknown> | undefined;

  const hostTask = (name: string): HostTask => {
    let t = hosts.get(name);
    if (!t) {
      let done!: () => void;
      let fail!: (e: Error) => void;
      const finished = new Promise<void>((res, rej) => ((done = res), (fail = rej)));
      t = { done, fail, finished };
      hosts.set(name, t);
    }
    return t;
  };

  return {
    emit(e) {
      switch (e.type) {
        case 'run-start': {
          const list = new Listr(
            e.hosts.map((h) => ({
              title: h,
              task: async (_: unknown, task: ListrTaskWrapper<unknown, never, never>) => {
                hostTask(h).task = task;
                await hostTask(h).finished;
              },
            })),
            { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } } as never,
          );
          run = list.run().catch(() => undefined);
          break;
        }
        case 'step': {
          const t = hostTask(e.host);
          if (t.task) t.task.title = `${e.host}: ${e.handler ? 'handler ' : ''}${e.step} (${e.status})`;
          if (e.status !== 'ok' || e.diff || e.hint) after.push(e);
          break;
        }
        case 'lock-wait': {
          const t = hostTask(e.host);
          if (t.task) t.task.title = `${e.host}: waiting for another run's lock (${e.holder})`;
          after.push(e);
          break;
        }
        case 'host-unreachable':
          hostTask(e.host).fail(new Error(`UNREACHABLE: ${e.message}`));
          after.push(e);
          break;
        case 'host-done': {
          const t = hostTask(e.host);
          const r = e.recap;
          if (t.task) t.task.title = `${e.host}: ok=${r.ok} changed=${r.changed} failed=${r.failed}`;
          if (r.failed > 0) t.fail(new Error(`${e.host}: ${r.failed} step(s) failed`));
          else t.done();
          break;
        }
        default:
          after.push(e);
      }
    },
    async close() {
      for (const t of hosts.values()) t.done();
      await run;
      // The details (changes, diffs, failures, recap) as plain lines once the live view ends.
      for (const e of after) summary.emit(e);
    },
  };
}
