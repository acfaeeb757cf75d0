/**
 * The engine without the lab: runPlaybooks over in-memory hosts (test/helpers/memory-host.ts)
 * behind the real connection pool, run lock and facts batch. Each case is a table row or a short
 * story; they synchronise on the hosts' events, never on sleeps.
 */
import { strict as assert } from 'node:assert';
import { ConnectionPool } from '../../../src/connection/pool.js';
import { sh } from '../../../src/connection/shell.js';
import { parseInventory } from '../../../src/inventory/load.js';
import type { Inventory } from '../../../src/inventory/model.js';
import type { FactResult, Operation } from '../../../src/operations/types.js';
import { definePlaybook, type Play, type Playbook } from '../../../src/playbook/define.js';
import type { RunEvent } from '../../../src/report/events.js';
import { PlanError, runPlaybooks, type RunOptions } from '../../../src/execute/run.js';
import { packages } from '../../../src/operations/package.js';
import { HANDLER_MARKER_DIR } from '../../../src/execute/host-play.js';
import { command } from '../../../src/operations/command.js';
import { waitReady } from '../../../src/kinds/ready.js';
import type { Deployment } from '../../../src/kinds/types.js';
import { runRolling } from '../../../src/execute/rolling.js';
import { failoverTest } from '../../../src/kinds/drill.js';
import { probeOut } from '../../../src/checks/probe.js';
import { MemoryLab, type MemoryHost } from '../../helpers/memory-host.js';

/** A key on the host: ok when it holds `value`, else one change that writes it. */
function kv(key: string, value: string, o: { notify?: string[]; disruptive?: boolean } = {}): Operation {
  const path = `/kv/${key}`;
  return {
    kind: 'kv', name: `kv ${key}`, tags: [key], notify: o.notify ?? [], disruptive: o.disruptive,
    facts: () => [{ key: `kv:${key}`, command: sh`cat ${path}` }],
    plan: (facts, ctx) => {
      const now = facts.get(`kv:${key}`)!;
      if (now.code === 0 && now.stdout === value) return { kind: 'ok', reason: `${key} is ${value}` };
      return { kind: 'change', summary: `${key} = ${value}`, script: sh`kvset ${path} ${value}`, diff: ctx.diff ? `-${now.code === 0 ? now.stdout : ''}\n+${value}\n` : undefined };
    },
  };
}

/** A handler: always a change, `reload NAME` on the host. */
function reload(name: string): Operation {
  return { kind: 'service', name: `reload ${name}`, tags: [], notify: [], facts: () => [], plan: () => ({ kind: 'change', summary: `reload ${name}`, script: sh`reload ${name}` }) };
}

function labOf(n: number): { lab: MemoryLab; hosts: MemoryHost[] } {
  const lab = new MemoryLab();
  const hosts = Array.from({ length: n }, (_, i) => lab.add(`h${i + 1}`, `198.18.9.${i + 1}`)
    .on(/^kvset /, (argv, h) => (h.files.set(argv[1]!, argv[2]!), { code: 0 }))
    .on(/^reload /, () => ({ code: 0 })));
  return { lab, hosts };
}

async function inventoryOf(n: number): Promise<Inventory> {
  const hosts = Array.from({ length: n }, (_, i) => `      h${i + 1}: { address: 198.18.9.${i + 1} }`).join('\n');
  return parseInventory('engine.yaml', `connection: { user: root, host_key_checking: off }\ngroups:\n  lb:\n    hosts:\n${hosts}\n`);
}

function playbook(steps: (host: string) => Operation[], extra: Partial<Play> = {}): Playbook {
  return definePlaybook({
    name: 'test', vars: {},
    plays: [{ name: 'kv', hosts: 'lb', steps: (h: { name: string }) => steps(h.name), handlers: { app: reload('app') }, ...extra }],
  } as unknown as Playbook);
}

interface Run { events: RunEvent[]; steps: (host: string) => string[]; recap: RunEvent & { type: 'recap' } }

async function run(lab: MemoryLab, inv: Inventory, pb: Playbook, o: Partial<RunOptions> & { lockWait?: number; holder?: string } = {}): Promise<Run> {
  const forks = o.forks ?? 20;
  const events: RunEvent[] = [];
  // As up.ts does: a wait for another run's lock is told as an event.
  const onWait = (host: string, holder: string, waitS: number) => events.push({ type: 'lock-wait', host, holder, waitS });
  const pool = new ConnectionPool(inv, o.check ? undefined : { holder: o.holder ?? 'test run', waitS: o.lockWait ?? 0, contentionGraceS: 1, onWait }, forks, lab.connect);
  await runPlaybooks(inv, [pb], { check: false, diff: false, forks, allowReboot: false, ...o, pool }, { emit: (e) => events.push(e), close: async () => undefined })
    .finally(() => pool.closeAll());
  const steps = (host: string) => events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.host === host).map((e) => `${e.step}: ${e.status}`);
  return { events, steps, recap: events.find((e) => e.type === 'recap') as Run['recap'] };
}

describe('engine: runPlaybooks over in-memory hosts', () => {
  it('runs steps in order, facts in one round trip, handlers once at the end; a second run changes nothing', async () => {
    const { lab, hosts } = labOf(2);
    const inv = await inventoryOf(2);
    const pb = playbook(() => [kv('a', '1', { notify: ['app'] }), kv('b', '2', { notify: ['app'] }), kv('c', '3')]);
    const first = await run(lab, inv, pb);
    for (const h of ['h1', 'h2']) assert.deepEqual(first.steps(h), ['kv a: changed', 'kv b: changed', 'kv c: changed', 'app: changed']);
    assert.equal(hosts[0]!.count('reload app'), 1, 'the handler ran once though two steps notified it');
    // The lock with the facts; each change with the facts the next steps plan from; the handler.
    assert.deepEqual(first.recap.commands, { h1: 5, h2: 5 });
    assert.equal(hosts[0]!.ran.filter((c) => c.includes('kvset')).every((c) => c.includes('@@lbdeploy-then-')), true, 'no separate read after a change');
    assert.equal(hosts[0]!.files.get('/kv/b'), '2');
    const second = await run(lab, inv, pb);
    for (const h of ['h1', 'h2']) assert.deepEqual(second.steps(h), ['kv a: ok', 'kv b: ok', 'kv c: ok']);
    // A no-op: one command per host, the lock with every fact read under it as soon as it is ours.
    assert.deepEqual(second.recap.commands, { h1: 1, h2: 1 });
    assert.equal(second.recap.connections, 2);
  });

  describe('a run that changes nothing: one round trip per host', () => {
    /** Two playbooks, a read before any change and readiness probes, as up runs them. */
    async function runTwo(lab: MemoryLab, inv: Inventory, values: { a: string; b: string }, o: Partial<RunOptions> = {}) {
      const events: RunEvent[] = [];
      const pool = new ConnectionPool(inv, o.check ? undefined : { holder: 'test run', waitS: 0 }, 20, lab.connect);
      const seen: string[] = [];
      const beforeChange = { requests: () => [{ key: 'vrids', command: sh`cat /vrids` }], decide: async (answers: ReadonlyMap<string, ReadonlyMap<string, FactResult>>) => (seen.push(...[...answers].map(([h, f]) => `${h}=${f.get('vrids')?.stdout}`)), false) };
      const readinessProbes = async () => () => [{ key: 'ready', command: sh`cat /ready` }];
      let builds = 0;
      const result = await runPlaybooks(inv, [playbook(() => (builds++, [kv('a', values.a)])), playbook(() => (builds++, [kv('b', values.b)]))], {
        check: false, diff: false, forks: 20, allowReboot: false, pool, ...(o.check ? {} : { beforeChange }), readinessProbes, ...o,
      }, { emit: (e) => events.push(e), close: async () => undefined }).finally(() => pool.closeAll());
      return { result, events, seen, builds };
    }

    it('up: the lock, the read before change, both plays\' facts and the readiness probes in one command', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      for (const h of hosts) {
        h.files.set('/kv/a', '1').set('/kv/b', '2').set('/vrids', '51').set('/ready', 'yes');
      }
      const r = await runTwo(lab, inv, { a: '1', b: '2' });
      assert.deepEqual(r.result.commands, { h1: 1, h2: 1 });
      // Each play's steps built twice per host: checked before anything connects, then built for the run once.
      assert.equal(r.builds, 2 * 2 * 2);
      assert.deepEqual(r.seen.sort(), ['h1=51', 'h2=51'], 'the pre-flight decided on what was read under the lock');
      assert.equal(r.result.probed.get('h1')?.facts.get('ready')?.stdout, 'yes', 'the wait\'s first round is answered too');
      for (const h of hosts) assert.equal(h.ran.filter((c) => c.includes('cat /kv/a')).every((c) => c.includes('flock -n 9')), true, 'read only under the lock');
    });

    it('a change in the first playbook: the second reads its facts again, after the change', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      for (const h of hosts) h.files.set('/kv/a', 'old').set('/kv/b', '2').set('/vrids', '51').set('/ready', 'yes');
      const r = await runTwo(lab, inv, { a: 'new', b: '2' });
      // The lock (with the read), the change, the second play's facts again.
      assert.deepEqual(r.result.commands, { h1: 3, h2: 3 });
      assert.equal(r.result.probed.size, 0, 'readiness read before the change is not used');
      assert.equal(hosts[0]!.files.get('/kv/a'), 'new');
    });

    it('plan (no lock): every play\'s facts in one read per host', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      for (const h of hosts) h.files.set('/kv/a', 'x').set('/kv/b', 'y');
      const r = await runTwo(lab, inv, { a: '1', b: '2' }, { check: true, diff: true });
      assert.deepEqual(r.result.commands, { h1: 1, h2: 1 });
      assert.equal(hosts[0]!.count('flock'), 0);
      const changed = r.events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.status === 'changed').map((e) => `${e.host} ${e.step}`).sort();
      assert.deepEqual(changed, ['h1 kv a', 'h1 kv b', 'h2 kv a', 'h2 kv b'], 'planned from the one read');
    });
  });

  it('a misspelt handler and a step that refuses its arguments are found before anything connects', async () => {
    const { lab, hosts } = labOf(2);
    const inv = await inventoryOf(2);
    const cases: [Playbook, RegExp][] = [
      [playbook(() => [kv('a', '1', { notify: ['ap'] })]), /h1: test \/ kv: step 'kv a' notifies 'ap', and the play has no handler of that name \(did you mean 'app'\?\)/],
      [playbook(() => [kv('a', '1'), packages({ names: [] })]), /h1: test \/ kv: packages\(\) names no package/],
    ];
    for (const [pb, message] of cases) {
      await assert.rejects(run(lab, inv, pb), (e: unknown) => {
        assert.ok(e instanceof PlanError, String(e));
        assert.match(e.message, message);
        assert.equal(e.problems.length, 2, 'each host named once');
        return true;
      });
    }
    for (const h of hosts) assert.equal(h.connections, 0, 'nothing connected');
  });

  it('check mode changes nothing, takes no lock and shows diffs', async () => {
    const { lab, hosts } = labOf(1);
    const inv = await inventoryOf(1);
    hosts[0]!.files.set('/kv/a', 'old');
    const r = await run(lab, inv, playbook(() => [kv('a', 'new', { notify: ['app'] })]), { check: true, diff: true });
    const step = r.events.find((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.step === 'kv a')!;
    assert.equal(step.status, 'changed');
    assert.match(step.message!, /^would a = new/);
    assert.equal(step.diff, '-old\n+new\n');
    assert.deepEqual(r.steps('h1'), ['kv a: changed', 'app: changed']);
    assert.equal(hosts[0]!.files.get('/kv/a'), 'old');
    assert.equal(hosts[0]!.count('flock'), 0);
    assert.equal(hosts[0]!.count('reload '), 0);
  });

  it('a failed step stops its host; the handler it was owed stays pending and runs on the next run', async () => {
    const { lab, hosts } = labOf(2);
    const inv = await inventoryOf(2);
    const pb = playbook(() => [kv('a', '1', { notify: ['app'] }), kv('b', '2'), kv('c', '3')]);
    hosts[0]!.failOnce(/^kvset \/kv\/b/, 'disk full');
    const first = await run(lab, inv, pb);
    assert.deepEqual(first.steps('h1'), ['kv a: changed', 'kv b: failed']);
    assert.deepEqual(first.steps('h2'), ['kv a: changed', 'kv b: changed', 'kv c: changed', 'app: changed'], 'the other host finished');
    assert.match(first.events.find((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.status === 'failed')!.message!, /exit 1: disk full/);
    assert.equal(first.recap.hosts.h1!.failed, 1);
    assert.ok([...hosts[0]!.files.keys()].some((f) => f.startsWith(`${HANDLER_MARKER_DIR}/`)), 'the pending handler is remembered on the host');
    assert.equal(hosts[0]!.count('reload '), 0);
    const second = await run(lab, inv, pb);
    assert.deepEqual(second.steps('h1'), ['kv a: ok', 'kv b: changed', 'kv c: changed', 'app: changed']);
    assert.equal(hosts[0]!.count('reload app'), 1);
    assert.ok(![...hosts[0]!.files.keys()].some((f) => f.startsWith(`${HANDLER_MARKER_DIR}/`)), 'the marker is gone once the handler ran');
  });

  it('a failing handler stays pending for the next run', async () => {
    const { lab, hosts } = labOf(1);
    const inv = await inventoryOf(1);
    const pb = playbook(() => [kv('a', '1', { notify: ['app'] })]);
    hosts[0]!.failOnce(/^reload app/, 'config invalid');
    const first = await run(lab, inv, pb);
    assert.deepEqual(first.steps('h1'), ['kv a: changed', 'app: failed']);
    const second = await run(lab, inv, pb);
    assert.deepEqual(second.steps('h1'), ['kv a: ok', 'app: changed']);
  });

  const CHANGED_WHEN: [stdout: string, changed: boolean][] = [['rotated', true], ['nothing to do', false]];
  for (const [stdout, changed] of CHANGED_WHEN) {
    it(`a command whose changed_when says ${changed ? 'changed' : 'no change'}: handler ${changed ? 'runs' : 'does not run'}, no marker left`, async () => {
      const { lab, hosts } = labOf(1);
      const inv = await inventoryOf(1);
      hosts[0]!.on(/^rotate-logs/, { stdout });
      const step = command({ cmd: 'rotate-logs', title: 'rotate', notify: 'app', changedWhen: (r) => r.stdout.includes('rotated') });
      const r = await run(lab, inv, playbook(() => [step]));
      assert.deepEqual(r.steps('h1'), changed ? ['rotate: changed', 'app: changed'] : ['rotate: ok']);
      assert.equal(hosts[0]!.count('reload app'), changed ? 1 : 0);
      assert.ok(![...hosts[0]!.files.keys()].some((f) => f.startsWith(HANDLER_MARKER_DIR)));
      // Its marker is written only once the result said "changed": never in the same command.
      assert.equal(hosts[0]!.count(/rotate-logs.*touch/), 0);
    });
  }

  it('an unreachable host is reported as such; the others finish', async () => {
    const { lab, hosts } = labOf(3);
    const inv = await inventoryOf(3);
    hosts[1]!.unreachable = true;
    const r = await run(lab, inv, playbook(() => [kv('a', '1')]));
    const un = r.events.filter((e): e is RunEvent & { type: 'host-unreachable' } => e.type === 'host-unreachable');
    assert.deepEqual(un.map((e) => e.host), ['h2']);
    assert.match(un[0]!.message, /ECONNREFUSED/);
    assert.equal(r.recap.hosts.h2!.unreachable, true);
    assert.deepEqual(r.steps('h1'), ['kv a: changed']);
    assert.deepEqual(r.steps('h3'), ['kv a: changed']);
  });

  it('a connection dropped mid-step fails that step; the run goes on for the others', async () => {
    const { lab, hosts } = labOf(2);
    const inv = await inventoryOf(2);
    const gate = hosts[0]!.gate('kvset /kv/b');
    const started = lab.next('command', 'h1', 'kvset /kv/b');
    const done = run(lab, inv, playbook(() => [kv('a', '1'), kv('b', '2'), kv('c', '3')]));
    await started;
    hosts[0]!.dropConnections();
    gate.open();
    const r = await done;
    assert.deepEqual(r.steps('h1').slice(0, 2), ['kv a: changed', 'kv b: failed']);
    assert.deepEqual(r.steps('h2'), ['kv a: changed', 'kv b: changed', 'kv c: changed']);
    assert.equal(hosts[0]!.lockHolder, undefined, 'the dropped connection released the lock');
  });

  const CAPS: [hosts: number, forks: number][] = [[6, 2], [5, 1], [4, 4], [3, 10]];
  for (const [n, forks] of CAPS) {
    it(`--forks ${forks} over ${n} hosts: at most ${Math.min(n, forks)} open, every host done`, async () => {
      const { lab, hosts } = labOf(n);
      const inv = await inventoryOf(n);
      let open = 0;
      let peak = 0;
      for (const h of hosts) {
        const connect = h.connect.bind(h);
        h.connect = async () => {
          const c = await connect();
          peak = Math.max(peak, ++open);
          const close = c.drop.bind(c);
          c.drop = () => {
            if (!c.isDropped) open--;
            close();
          };
          return c;
        };
      }
      const r = await run(lab, inv, playbook(() => [kv('a', '1'), kv('b', '2')]), { forks });
      assert.ok(peak <= Math.min(n, forks), `peak ${peak}`);
      assert.equal(r.recap.peakOpen, peak);
      for (let i = 1; i <= n; i++) assert.deepEqual(r.steps(`h${i}`), ['kv a: changed', 'kv b: changed']);
      for (const h of hosts) assert.equal(h.connections, 1, `${h.name} connected once`);
    });
  }

  describe('run locks: two runs over the same hosts never split them', () => {
    /** Run A's lock on h1 and run B's on h2 answer first: both runs start with half the hosts. */
    async function split(lockWait: number, holdA?: { open: () => void }) {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      const bOnH1 = hosts[0]!.gate('run-B');
      const aOnH2 = hosts[1]!.gate('run-A');
      const halves = Promise.all([lab.next('locked', 'h1'), lab.next('locked', 'h2')]);
      const a = run(lab, inv, playbook(() => [kv('k', 'A')]), { holder: 'run-A', lockWait });
      const b = run(lab, inv, playbook(() => [kv('k', 'B')]), { holder: 'run-B', lockWait });
      const [[, h1], [, h2]] = await halves;
      assert.deepEqual([String(h1).split(' ')[0], String(h2).split(' ')[0]], ['run-A', 'run-B'], 'each run took one host first');
      bOnH1.open();
      aOnH2.open();
      void holdA;
      return { hosts, a: await a, b: await b };
    }
    const outcome = (r: Run) => (r.recap.hosts.h1!.failed + r.recap.hosts.h2!.failed === 0 ? 'done' : 'refused');

    it('without --lock-wait: they back off and take the locks in one order; the loser waits its grace, then runs after the winner', async () => {
      const { hosts, a, b } = await split(0);
      assert.deepEqual([outcome(a), outcome(b)], ['done', 'done']);
      // Serialised, not interleaved: both hosts end with the same run's value.
      assert.equal(hosts[0]!.files.get('/kv/k'), hosts[1]!.files.get('/kv/k'));
      assert.equal(hosts[0]!.count('kvset'), 2);
    });

    it('one run holds the hosts: a second one is refused, names the holder, and changes nothing', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      const gate = hosts[1]!.gate('kvset /kv/k A');
      const midway = lab.next('command', 'h2', 'kvset /kv/k A');
      const a = run(lab, inv, playbook(() => [kv('k', 'A')]), { holder: 'run-A' });
      await midway;
      // With a pre-flight: refused by the locks, it is never asked (it would meet the held hosts itself).
      let asked = 0;
      const beforeChange = { requests: () => [{ key: 'vrids', command: sh`cat /vrids` }], decide: async () => (asked++, false) };
      const b = await run(lab, inv, playbook(() => [kv('k', 'B'), kv('other', 'B')]), { holder: 'run-B', beforeChange });
      gate.open();
      await a;
      assert.equal(asked, 0, 'the pre-flight was not asked');
      // Read only under a lock of this run (the read goes out with the lock command, which was refused).
      const readAlone = /^(?![\s\S]*flock -n 9)[\s\S]*cat \/vrids/;
      assert.equal(hosts[0]!.count(readAlone) + hosts[1]!.count(readAlone), 0);
      assert.equal(hosts[0]!.ran.filter((c) => c.includes('cat /vrids')).every((c) => c.includes('flock -n 9') && c.includes('run-B')), true);
      assert.equal(b.recap.hosts.h1!.failed + b.recap.hosts.h2!.failed, 2);
      // Holding none, it is refused at once (no grace to wait), every held host named with its holder.
      const refusals = b.events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.step === 'run lock' && /another lbdeploy run holds this host/.test(e.message ?? ''));
      assert.deepEqual(refusals.map((e) => e.host).sort(), ['h1', 'h2']);
      for (const e of refusals) assert.match(e.message!, /run-A since \d{4}-/);
      assert.deepEqual(hosts.map((h) => h.count('run-B')), [1, 1], 'one try per host: no ordered pass, no grace waited');
      assert.equal(hosts[0]!.count('kvset /kv/k B') + hosts[1]!.count('kvset /kv/k B') + hosts[0]!.count('kvset /kv/other'), 0, 'the refused run changed nothing');
      assert.equal(hosts[0]!.files.get('/kv/k'), 'A');
      assert.equal(hosts[0]!.lockHolder, undefined, 'every lock released at the end');
    });

    it('with --lock-wait the second run queues behind the first, then runs', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      const gate = hosts[0]!.gate('kvset /kv/k A');
      const midway = lab.next('command', 'h1', 'kvset /kv/k A');
      const a = run(lab, inv, playbook(() => [kv('k', 'A')]), { holder: 'run-A' });
      await midway;
      const waiting = lab.next('command', 'h1', 'run-B');
      const b = run(lab, inv, playbook(() => [kv('k', 'B')]), { holder: 'run-B', lockWait: 10 });
      await waiting;
      gate.open();
      const [ra, rb] = await Promise.all([a, b]);
      assert.deepEqual([outcome(ra), outcome(rb)], ['done', 'done']);
      assert.ok(rb.events.some((e) => e.type === 'lock-wait' && /run-A/.test(e.holder)), 'told whom it waits for');
      assert.deepEqual([hosts[0]!.files.get('/kv/k'), hosts[1]!.files.get('/kv/k')], ['B', 'B'], 'B ran after A everywhere');
    });

    it('the global order: a run that met contention takes its locks sorted by address', async () => {
      const { lab, hosts } = labOf(3);
      const inv = await inventoryOf(3);
      // Another holder on h2 for a moment: the first try fails there, the ordered pass follows.
      const blocker = new ConnectionPool(inv, { holder: 'blocker', waitS: 0 }, 5, lab.connect);
      await blocker.lockAll([inv.hosts[1]!]);
      const order: string[] = [];
      lab.on('locked', (host: string, holder: string) => { if (holder.startsWith('run-A')) order.push(host); });
      const releasedSoon = lab.next('command', 'h2', 'run-A').then(() => blocker.closeAll());
      const a = await run(lab, inv, playbook(() => [kv('k', 'A')]), { holder: 'run-A' });
      await releasedSoon;
      assert.equal(outcome(a), 'done');
      assert.deepEqual(order.slice(-3), ['h1', 'h2', 'h3'], 'the ordered pass, after the first try');
      void hosts;
    });
  });

  describe('readiness: waitReady polls the kinds\' checks until all are ok, or names those that never passed', () => {
    /** A deployment whose one check reads `svc-state` on each node: ok when it prints "up". */
    function service(inv: Inventory): Deployment {
      return {
        kind: 'test', name: 'svc', nodes: [...inv.hosts], vips: [], endToEnd: [], drills: [],
        probes: [{ key: 'svc', command: sh`svc-state` }],
        evaluate: (probes) => [...probes].map(([host, p]) => {
          const state = probeOut(p, 'svc').trim();
          return { check: 'svc serving', target: host, severity: state === 'up' ? 'ok' : 'critical', detail: state };
        }),
      };
    }
    const ROUNDS: [title: string, startingRounds: number[], ready: boolean][] = [
      ['both up at once', [0, 0], true],
      ['one needs three rounds', [0, 2], true],
      ['one never comes up', [0, 1000], false],
    ];
    for (const [title, starting, ready] of ROUNDS) {
      it(title, async () => {
        const { lab, hosts } = labOf(2);
        const inv = await inventoryOf(2);
        hosts.forEach((h, i) => h.on(/^svc-state/, { stdout: 'up' }).on(/^svc-state/, { stdout: 'starting' }, starting[i]));
        const pool = new ConnectionPool(inv, undefined, 20, lab.connect);
        const r = await waitReady(pool, [service(inv)], { timeoutMs: 300, intervalMs: 10 }).finally(() => pool.closeAll());
        assert.equal(r.ready, ready);
        if (ready) {
          assert.equal(r.rounds, Math.max(...starting) + 1);
          assert.ok(r.checks.every((c) => c.severity === 'ok'));
        } else {
          assert.deepEqual(r.checks.filter((c) => c.severity !== 'ok').map((c) => `${c.check} ${c.target}: ${c.detail}`), ['svc serving h2: starting']);
          assert.ok(r.rounds > 3, `kept polling until the deadline (${r.rounds} rounds)`);
          assert.ok(r.ms >= 300, 'waited the whole time');
        }
        for (const h of hosts) assert.equal(h.connections, 1, 'one connection per host across the rounds');
      });
    }
  });

  describe('rolling (--serial): clusters in batches, backups before holders, a failed health gate stops the rollout', () => {
    it('batch 2 fails its gate: batch 3 is untouched and the resume command names what is left', async () => {
      const { lab, hosts } = labOf(6);
      const inv = await inventoryOf(6);
      // Three clusters of two; the VIP holders: h1, h4, h5. h3 never serves.
      const holders = new Set(['h1', 'h4', 'h5']);
      hosts.forEach((h, i) => {
        const vip = `198.18.9.${101 + Math.floor(i / 2)}`;
        h.on(/^ip -o addr show/, { stdout: `2: eth0    inet ${h.address}/24 scope global eth0\n${holders.has(h.name) ? `2: eth0    inet ${vip}/32 scope global eth0\n` : ''}` });
        h.on(/^svc-state/, { stdout: h.name === 'h3' ? 'starting' : 'up' });
      });
      const clusters: Deployment[] = [0, 1, 2].map((c) => ({
        kind: 'test', name: `c${c + 1}`, nodes: inv.hosts.slice(2 * c, 2 * c + 2), vips: [{ name: `c${c + 1}`, address: `198.18.9.${101 + c}` }],
        endToEnd: [], drills: [], probes: [{ key: 'svc', command: sh`svc-state` }],
        evaluate: (probes) => [...probes].map(([host, p]) => ({ check: 'svc', target: host, severity: probeOut(p, 'svc').trim() === 'up' ? 'ok' : 'critical', detail: probeOut(p, 'svc').trim() })),
      }));
      const order: string[] = [];
      lab.on('command', (host: string, text: string) => { if (text.includes('kvset')) order.push(host); });
      const events: RunEvent[] = [];
      const pool = new ConnectionPool(inv, { holder: 'rollout', waitS: 0 }, 20, lab.connect);
      const r = await runRolling(inv, [playbook(() => [kv('k', 'v')])], {
        check: false, diff: false, forks: 20, allowReboot: false, pool, serial: { count: 1 }, maxFail: 0, gateS: 0.3,
        deployments: clusters, resumeCommand: 'lbdeploy up inv.yaml --serial 1',
      }, { emit: (e) => events.push(e), close: async () => undefined }).finally(() => pool.closeAll());
      assert.equal(r.stopped, true);
      assert.deepEqual(r.batches.map((b) => [b.index, b.ok, b.backups, b.holders]), [[1, true, ['h2'], ['h1']], [2, false, ['h3'], ['h4']]]);
      assert.match(r.batches[1]!.problem!, /health gate not passed within 0.3 s/);
      assert.deepEqual(order, ['h2', 'h1', 'h3', 'h4'], 'backups before holders, batch by batch; batch 3 never touched');
      const stop = events.find((e): e is RunEvent & { type: 'rollout-stopped' } => e.type === 'rollout-stopped')!;
      assert.equal(stop.resume, 'lbdeploy up inv.yaml --serial 1 --limit h3,h4,h5,h6');
      const gate = events.filter((e): e is RunEvent & { type: 'wait-done' } => e.type === 'wait-done');
      assert.deepEqual(gate[1]!.failing.map((c) => `${c.check} ${c.target}: ${c.detail}`), ['svc h3: starting']);
      assert.equal(hosts[4]!.count('kvset'), 0);
    });
  });

  describe('rolling over a fleet: each host connected once, the pre-flight asked before any change (or per batch over --forks)', () => {
    /** 30 hosts in 15 clusters of two (the odd ones hold the VIPs); `preflight` reads every node it is given over the pool. */
    async function fleet(forks: number, failAt?: number) {
      const n = 30;
      const lab = new MemoryLab();
      const hosts = Array.from({ length: n }, (_, i) => lab.add(`h${i + 1}`, `198.18.9.${i + 1}`)
        .on(/^kvset /, (argv, h) => (h.files.set(argv[1]!, argv[2]!), { code: 0 }))
        .on(/^svc-state/, { stdout: 'up' })
        .on(/^cat \/vrids/, { stdout: '51' })
        .on(/^ip -o addr show/, { stdout: `2: eth0    inet 198.18.9.${i + 1}/24 scope global eth0\n${i % 2 === 0 ? `2: eth0    inet 198.18.8.${1 + i / 2}/32 scope global eth0\n` : ''}` }));
      const inv = await inventoryOf(n);
      const clusters: Deployment[] = Array.from({ length: n / 2 }, (_, c) => ({
        kind: 'test', name: `c${c + 1}`, nodes: inv.hosts.slice(2 * c, 2 * c + 2), vips: [{ name: `c${c + 1}`, address: `198.18.8.${1 + c}` }],
        endToEnd: [], drills: [], probes: [{ key: 'svc', command: sh`svc-state` }],
        evaluate: (probes) => [...probes].map(([host, p]) => ({ check: 'svc', target: host, severity: probeOut(p, 'svc').trim() === 'up' ? 'ok' as const : 'critical' as const, detail: '' })),
      }));
      const asked: string[][] = [];
      const pool = new ConnectionPool(inv, { holder: 'rollout', waitS: 0 }, forks, lab.connect);
      const preflight = async (cs: readonly Deployment[]) => {
        asked.push(cs.map((d) => d.name));
        for (const d of cs) for (const node of d.nodes) await (await pool.session(node)).run(sh`cat /vrids`);
        return asked.length === failAt ? 'the VRRP pre-flight failed for c9' : undefined;
      };
      const events: RunEvent[] = [];
      const r = await runRolling(inv, [playbook(() => [kv('k', 'v')])], {
        check: false, diff: false, forks, allowReboot: false, pool, serial: { count: 5 }, maxFail: 0, gateS: 5,
        deployments: clusters, resumeCommand: 'lbdeploy up inv.yaml --serial 5', preflight,
      }, { emit: (e) => events.push(e), close: async () => undefined }).finally(() => pool.closeAll());
      const changed = hosts.filter((h) => h.count('kvset') > 0).map((h) => h.name);
      return { r, asked, changed, connections: hosts.reduce((a, h) => a + h.connections, 0), stop: events.find((e): e is RunEvent & { type: 'rollout-stopped' } => e.type === 'rollout-stopped') };
    }
    const batch = (b: number) => Array.from({ length: 5 }, (_, i) => `c${5 * b + i + 1}`);

    it('under --forks: one pre-flight over all 15 clusters before the first change; 30 connections for 30 hosts', async () => {
      const { r, asked, changed, connections } = await fleet(100);
      assert.equal(r.stopped, false);
      assert.deepEqual(asked, [[...batch(0), ...batch(1), ...batch(2)]]);
      assert.equal(changed.length, 30);
      assert.equal(connections, 30);
    });
    it('over --forks (20 for 30 hosts): each batch pre-flighted in its turn; still 30 connections, one per host', async () => {
      const { r, asked, changed, connections } = await fleet(20);
      assert.equal(r.stopped, false);
      assert.deepEqual(asked, [batch(0), batch(1), batch(2)]);
      assert.equal(changed.length, 30);
      assert.equal(connections, 30);
    });
    it('a failed pre-flight under --forks changes nothing and says so', async () => {
      const { r, changed, stop } = await fleet(100, 1);
      assert.equal(r.stopped, true);
      assert.deepEqual(changed, []);
      assert.equal(stop?.after, 0);
      assert.match(stop!.reason, /the VRRP pre-flight failed for c9: nothing was changed/);
    });
    it('over --forks, a batch whose pre-flight fails stops the rollout there: the batches before it changed, it and those after untouched', async () => {
      const { r, changed } = await fleet(20, 2);
      assert.equal(r.stopped, true);
      assert.deepEqual(r.batches.map((b) => [b.index, b.ok]), [[1, true], [2, false]]);
      assert.match(r.batches[1]!.problem!, /the VRRP pre-flight failed for c9/);
      assert.deepEqual(changed, Array.from({ length: 10 }, (_, i) => `h${i + 1}`));
    });
  });

  describe('the drill\'s timing logic: VIP moves, split brain, restore, judged from polls every 50 ms', () => {
    /** Who holds the VIP, as a function of the time since the fault (undefined before it). */
    type World = (sinceStopMs: number | undefined, restored: boolean) => string[];
    async function drill(world: World, o: { maxMoveS?: number; expect?: 'move' | 'stay'; evaluate?: Deployment['evaluate'] } = {}) {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      let stopAt: number | undefined;
      let restored = false;
      const vip = '198.18.9.100';
      for (const h of hosts) {
        h.on(/^ip -o addr show/, () => {
          const held = world(stopAt === undefined ? undefined : Date.now() - stopAt, restored).includes(h.name);
          return { stdout: `2: eth0    inet ${h.address}/24 scope global eth0\n${held ? `2: eth0    inet ${vip}/32 scope global eth0\n` : ''}` };
        });
        h.on(/^fault-stop/, () => ((stopAt = Date.now()), { code: 0 }));
        h.on(/^fault-start/, () => ((restored = true), { code: 0 }));
      }
      const d: Deployment = {
        kind: 'test', name: 'c1', nodes: [...inv.hosts], vips: [{ name: 'VI_1', address: vip }], endToEnd: [], probes: [],
        evaluate: o.evaluate ?? (() => []), drills: [],
      };
      const pool = new ConnectionPool(inv, undefined, 20, lab.connect);
      const [r] = await failoverTest(pool, d, { scenario: 'fault', stop: sh`fault-stop`, start: sh`fault-start`, expect: o.expect }, { maxMoveS: o.maxMoveS ?? 3, rate: 10, timeoutS: 1 })
        .finally(() => pool.closeAll());
      return { r: r!, hosts };
    }

    it('a clean move: measured from the fault to the first poll that sees the new holder', async () => {
      const { r, hosts } = await drill((t) => (t === undefined ? ['h1'] : t < 300 ? [] : ['h2']));
      assert.equal(r.ok, true, r.problem);
      assert.equal(r.holderBefore, 'h1');
      assert.equal(r.holderAfter, 'h2');
      assert.ok(r.vipMovedS! >= 0.3, `not before the new holder had it (${r.vipMovedS} s)`);
      assert.ok(r.vipMovedS! < 3, `within --max-move (${r.vipMovedS} s)`);
      assert.equal(r.splitBrain, undefined);
      assert.equal(hosts[0]!.count('fault-stop'), 1, 'the fault on the holder only');
      assert.equal(hosts[1]!.count('fault-stop'), 0);
      assert.equal(hosts[0]!.count('fault-start'), 1, 'and the holder restored');
    });

    it('two holders in one poll only (a takeover caught mid-way) is not a split brain', async () => {
      const { r } = await drill((t) => (t === undefined ? ['h1'] : t < 300 ? ['h1'] : t < 320 ? ['h1', 'h2'] : ['h2']));
      assert.equal(r.ok, true, r.problem);
      assert.equal(r.splitBrain, undefined);
    });

    it('two holders poll after poll is a split brain, named, and fails the drill', async () => {
      const { r } = await drill((t, restored) => (t === undefined ? ['h1'] : restored ? ['h2'] : ['h1', 'h2']));
      assert.equal(r.ok, false);
      assert.deepEqual(r.splitBrain?.sort(), ['h1', 'h2']);
      assert.match(r.problem!, /split brain: (h1 and h2|h2 and h1) held the VIP at once/);
    });

    it('the verify after the restore finds a hand-over (a preempting node taking its VIP back) once: asked again, it passes', async () => {
      // The checks as a kind evaluates them: ok when readiness is waited for, critical at the first
      // verify (both nodes hold the VIP for an advert), ok a second later.
      const calls: string[] = [];
      const evaluate: Deployment['evaluate'] = () => {
        const severity = calls.length === 1 ? 'critical' : 'ok';
        calls.push(severity);
        return [{ check: 'vip holder', target: 'VI_1', severity, detail: severity === 'ok' ? 'held by h1' : 'split brain: held by h1, h2' }];
      };
      const { r } = await drill((t) => (t === undefined ? ['h1'] : ['h2']), { evaluate });
      assert.equal(r.ok, true, r.problem);
      assert.deepEqual(calls, ['ok', 'critical', 'ok'], 'ready, then the verify twice');
    });

    it('a VIP that never moves fails a drill that expects a move, after twice --max-move', async () => {
      const { r } = await drill(() => ['h1'], { maxMoveS: 1 });
      assert.equal(r.ok, false);
      assert.equal(r.vipMovedS, undefined);
      assert.match(r.problem!, /the VIP did not move within the drill/);
    });

    it('a VIP that must stay (a restarted process) passes when it stays, fails when it moves', async () => {
      assert.equal((await drill(() => ['h1'], { expect: 'stay' })).r.ok, true);
      const moved = (await drill((t) => (t === undefined ? ['h1'] : ['h2']), { expect: 'stay' })).r;
      assert.equal(moved.ok, false);
      assert.match(moved.problem!, /the VIP moved to h2 \(it should have stayed\)/);
    });
  });

  describe('over --forks: a host\'s turn reads what later needs ask, so they connect it no more', () => {
    /** Two plays: a plain one, then one that orders its batches by a probe (the VIP holders, odd hosts, last). */
    function twoPlays(): Playbook {
      const holderProbe = { key: 'holder', command: sh`vip-holder` };
      return definePlaybook({
        name: 'test', vars: {},
        plays: [
          { name: 'first', hosts: 'lb', steps: () => [kv('a', '1')] },
          {
            name: 'ordered', hosts: 'lb', steps: () => [kv('b', '2')], probe: holderProbe,
            batches: (hs: readonly { name: string }[], probes: ReadonlyMap<string, { stdout: string }>) => [
              hs.filter((h) => probes.get(h.name)?.stdout.trim() !== 'yes'), hs.filter((h) => probes.get(h.name)?.stdout.trim() === 'yes'),
            ],
          },
        ],
      } as unknown as Playbook);
    }
    function fleetOf(n: number) {
      const { lab, hosts } = labOf(n);
      hosts.forEach((h, i) => h.on(/vip-holder/, { stdout: i % 2 === 0 ? 'yes' : 'no' }).on(/^svc-state/, { stdout: 'up' }));
      return { lab, hosts };
    }
    const service = (inv: Inventory): Deployment => ({
      kind: 'test', name: 'svc', nodes: [...inv.hosts], vips: [], endToEnd: [], drills: [],
      probes: [{ key: 'svc', command: sh`svc-state` }],
      evaluate: (probes) => [...probes].map(([host, p]) => ({ check: 'svc', target: host, severity: probeOut(p, 'svc').trim() === 'up' ? 'ok' as const : 'critical' as const, detail: probeOut(p, 'svc').trim() })),
    });
    async function runCapped(n: number, forks: number, readiness?: (inv: Inventory) => Deployment[]) {
      const { lab, hosts } = fleetOf(n);
      const inv = await inventoryOf(n);
      const events: RunEvent[] = [];
      const pool = new ConnectionPool(inv, { holder: 'capped', waitS: 0 }, forks, lab.connect);
      const deployments = readiness?.(inv);
      const result = await runPlaybooks(inv, [twoPlays()], {
        check: false, diff: false, forks, allowReboot: false, pool,
        readinessProbes: deployments ? async () => (h) => deployments.flatMap((d) => (d.nodes.includes(h) ? d.probes : [])) : undefined,
      }, { emit: (e) => events.push(e), close: async () => undefined });
      return { lab, hosts, inv, pool, result, events, deployments };
    }

    it('the batching play\'s probe is read ahead on each host\'s first turn: no host is connected more than once per play, and the holders still go last', async () => {
      const { hosts, pool, events } = await runCapped(6, 2);
      await pool.closeAll();
      for (const h of hosts) {
        assert.ok(h.connections <= 2, `${h.name}: ${h.connections} connections for two plays`);
        assert.deepEqual(events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.host === h.name).map((e) => `${e.step}: ${e.status}`), ['kv a: changed', 'kv b: changed']);
      }
      const order = events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.step === 'kv b').map((e) => e.host);
      assert.deepEqual(order.slice(3).sort(), ['h1', 'h3', 'h5'], `the holders last: ${order.join(' ')}`);
    });

    it('the readiness probes read at the end of each host\'s last turn answer the wait\'s first round: ready with no new connection', async () => {
      const { hosts, pool, result, deployments } = await runCapped(6, 2, (inv) => [service(inv)]);
      try {
        assert.deepEqual([...result.probed.keys()].sort(), ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
        const before = hosts.map((h) => h.connections);
        const r = await waitReady(pool, deployments!, { timeoutMs: 2000, intervalMs: 10, known: result.probed });
        assert.equal(r.ready, true);
        assert.equal(r.rounds, 1);
        assert.deepEqual(hosts.map((h) => h.connections), before, 'no host connected again');
        for (const h of hosts) assert.equal(h.count('svc-state'), 1, `${h.name} probed once, on its turn`);
      } finally {
        await pool.closeAll();
      }
    });

    it('a host whose turn-end answer is not ok is asked again in the next round; answers to other requests are not used', async () => {
      const { hosts, pool, result, deployments, inv } = await runCapped(4, 2, (i) => [service(i)]);
      try {
        hosts[0]!.on(/^svc-state/, { stdout: 'up' });
        const known = new Map(result.probed);
        known.set('h1', { ...known.get('h1')!, facts: new Map([['svc', { stdout: 'starting', stderr: '', code: 0 }]]) });
        const r = await waitReady(pool, deployments!, { timeoutMs: 2000, intervalMs: 10, known });
        assert.equal(r.ready, true);
        assert.equal(r.rounds, 2);
        const other = { ...service(inv), probes: [{ key: 'svc', command: sh`svc-state --verbose` }] };
        const before = hosts[1]!.count('svc-state');
        await waitReady(pool, [other], { timeoutMs: 2000, intervalMs: 10, known: result.probed });
        assert.equal(hosts[1]!.count('svc-state'), before + 1, 'a known answer to another command is not taken for this one');
      } finally {
        await pool.closeAll();
      }
    });

    it('the read before any change (up\'s pre-flight) carries the batching play\'s probe: still at most one connection per host and play; a refusal changes nothing', async () => {
      for (const refuse of [false, true]) {
        const { lab, hosts } = fleetOf(6);
        hosts.forEach((h) => h.on(/cat \/vrids/, { stdout: '51' }));
        const inv = await inventoryOf(6);
        const events: RunEvent[] = [];
        let seen: string[] = [];
        const pool = new ConnectionPool(inv, { holder: 'capped', waitS: 0 }, 2, lab.connect);
        const ordered = twoPlays();
        const result = await runPlaybooks(inv, [{ ...ordered, plays: [ordered.plays[1]!] }], {
          check: false, diff: false, forks: 2, allowReboot: false, pool,
          beforeChange: { requests: () => [{ key: 'vrids', command: sh`cat /vrids` }], decide: async (answers) => ((seen = [...answers].map(([h, f]) => `${h}:${f.get('vrids')?.stdout}`).sort()), refuse) },
        }, { emit: (e) => events.push(e), close: async () => undefined }).finally(() => pool.closeAll());
        assert.deepEqual(seen, ['h1:51', 'h2:51', 'h3:51', 'h4:51', 'h5:51', 'h6:51'], 'every host answered before the decision');
        assert.equal(result.refused, refuse);
        for (const h of hosts) {
          assert.equal(h.count(/cat \/vrids/), 1, `${h.name}: one read before the change`);
          assert.ok(h.count(/cat \/vrids/) === 1 && h.ran.some((c) => c.includes('cat /vrids') && c.includes('vip-holder')), `${h.name}: the batching play's probe went with it`);
          assert.ok(h.connections <= 2, `${h.name}: ${h.connections} connections for the read and one play`);
          assert.equal(h.count('kvset'), refuse ? 0 : 1);
        }
        assert.equal(events.filter((e) => e.type === 'step').length, refuse ? 0 : 6);
      }
    });

    describe('a run that changes nothing over the cap: one connection and one command per host', () => {
      /** Both plays, up's read before any change and the readiness probes, 6 hosts under --forks 2. */
      async function upCapped(values: { a: (host: string) => string }) {
        const { lab, hosts } = fleetOf(6);
        const inv = await inventoryOf(6);
        for (const h of hosts) h.on(/cat \/vrids/, { stdout: '51' }).files.set('/kv/a', '1').set('/kv/b', '2');
        const events: RunEvent[] = [];
        const pool = new ConnectionPool(inv, { holder: 'capped', waitS: 0 }, 2, lab.connect);
        const ordered = twoPlays();
        const pb = { ...ordered, plays: ordered.plays.map((p, i) => (i === 0 ? { ...p, steps: (h: { name: string }) => [kv('a', values.a(h.name))] } : p)) } as Playbook;
        const deployment = service(inv);
        const result = await runPlaybooks(inv, [pb], {
          check: false, diff: false, forks: 2, allowReboot: false, pool,
          beforeChange: { requests: () => [{ key: 'vrids', command: sh`cat /vrids` }], decide: async () => false },
          readinessProbes: async () => () => deployment.probes,
        }, { emit: (e) => events.push(e), close: async () => undefined }).finally(() => pool.closeAll());
        const steps = (host: string) => events.filter((e): e is RunEvent & { type: 'step' } => e.type === 'step' && e.host === host).map((e) => `${e.step}: ${e.status}`);
        return { hosts, result, steps };
      }

      it('every turn is answered by the read under the lock: the lock with it is the only command', async () => {
        const { hosts, result, steps } = await upCapped({ a: () => '1' });
        for (const h of hosts) {
          assert.equal(h.connections, 1, `${h.name}: ${h.connections} connections`);
          assert.deepEqual(steps(h.name), ['kv a: ok', 'kv b: ok']);
          assert.ok(h.ran.some((c) => c.includes('flock -n 9') && c.includes('cat /kv/b') && c.includes('svc-state')), `${h.name}: both plays and the readiness probe read under the lock`);
        }
        assert.deepEqual(Object.values(result.commands), [1, 1, 1, 1, 1, 1]);
        assert.deepEqual([...result.probed.keys()].sort(), ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], 'the wait\'s first round is answered too');
      });

      it('once a host changed, the later turns connect and read again under their lock', async () => {
        const { hosts, result, steps } = await upCapped({ a: (h) => (h === 'h2' ? 'new' : '1') });
        assert.equal(hosts[1]!.files.get('/kv/a'), 'new');
        assert.deepEqual(steps('h2'), ['kv a: changed', 'kv b: ok']);
        for (const h of hosts) assert.deepEqual(steps(h.name).slice(1), ['kv b: ok']);
        // The second play's turns all come after h2's change: each reads its facts again.
        for (const h of hosts) assert.ok(h.count(/cat \/kv\/b/) >= 2, `${h.name}: the second play read again (${h.count(/cat \/kv\/b/)})`);
        assert.ok(Object.values(result.commands).every((n) => n >= 2));
      });
    });

    it('a deployment ready in one round is not probed again while another one is still coming up', async () => {
      const { lab, hosts } = labOf(2);
      const inv = await inventoryOf(2);
      hosts[0]!.on(/^svc-state/, { stdout: 'up' });
      hosts[1]!.on(/^svc-state/, { stdout: 'up' }).on(/^svc-state/, { stdout: 'starting' }, 2);
      const one = (h: number): Deployment => ({ ...service(inv), name: `svc${h}`, nodes: [inv.hosts[h]!] });
      const pool = new ConnectionPool(inv, undefined, 20, lab.connect);
      const r = await waitReady(pool, [one(0), one(1)], { timeoutMs: 2000, intervalMs: 10 }).finally(() => pool.closeAll());
      assert.equal(r.ready, true);
      assert.equal(r.rounds, 3);
      assert.deepEqual([hosts[0]!.count('svc-state'), hosts[1]!.count('svc-state')], [1, 3]);
      assert.equal(r.checks.length, 2, 'the last checks of both deployments are reported');
    });
  });
});
