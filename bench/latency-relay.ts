/**
 * Added latency for the bench without tc netem (this machine's kernel has no sch_netem): one TCP
 * relay per lab host on 127.0.0.1, each forwarding to the host's SSH port with every chunk held
 * DELAY/2 ms in each direction (in order), so each round trip takes DELAY ms more.
 *
 *   tsx bench/latency-relay.ts DELAY_MS ADDRESS...   prints "ADDRESS PORT" per host, then "ready"
 *
 * Only lab addresses (198.18.0.0/15) are relayed. It runs until its stdin closes.
 */
import { createConnection, createServer, type Socket } from 'node:net';

const [delayArg, ...addresses] = process.argv.slice(2);
const half = Number(delayArg) / 2;
if (!(half >= 0) || addresses.length === 0) throw new Error('usage: latency-relay.ts DELAY_MS ADDRESS...');
for (const a of addresses) if (!/^198\.(18|19)\.\d+\.\d+$/.test(a)) throw new Error(`${a} is not a lab address (198.18.0.0/15)`);

/**
 * from -> to, each chunk delivered `half` ms after it arrived, strictly in order: one queue and one
 * timer per direction (timers of different lengths may fire out of order, and a reordered SSH stream
 * fails its MAC check).
 */
function delayed(from: Socket, to: Socket): void {
  const queue: { at: number; chunk: Buffer | null }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const drain = () => {
    timer = undefined;
    while (queue.length > 0 && queue[0]!.at <= Date.now()) {
      const { chunk } = queue.shift()!;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    if (queue.length > 0) timer = setTimeout(drain, queue[0]!.at - Date.now());
  };
  const push = (chunk: Buffer | null) => {
    queue.push({ at: Date.now() + half, chunk });
    if (!timer) timer = setTimeout(drain, half);
  };
  from.on('data', (chunk: Buffer) => push(chunk));
  from.on('end', () => push(null));
  from.on('error', () => to.destroy());
}

const sockets = new Set<Socket>();
const servers = await Promise.all(addresses.map((address) => new Promise<{ address: string; port: number; close: () => void }>((resolve) => {
  const server = createServer((client) => {
    const upstream = createConnection({ host: address, port: 22 });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.setNoDelay(true);
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  server.listen(0, '127.0.0.1', () => resolve({ address, port: (server.address() as { port: number }).port, close: () => server.close() }));
})));
for (const s of servers) console.log(`${s.address} ${s.port}`);
console.log('ready');
process.stdin.resume();
process.stdin.on('end', () => {
  for (const s of servers) s.close();
  for (const s of sockets) s.destroy();
  process.exit(0);
});
