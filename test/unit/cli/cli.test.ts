/**
 * The command line as a user meets it, run from the built CLI: help that never acts, suggestions,
 * one exit-code table, JSON errors, a closed pipe, completion in real bash and zsh.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { COMMANDS, type CommandSpec } from '../../../src/cli/specs.js';
import { EXIT, EXIT_TABLE } from '../../../src/cli/exit-codes.js';
import { valuesOf } from '../../../src/cli/program.js';
import { completions } from '../../../src/cli/complete.js';
import { exitOf } from '../../../src/cli/up.js';
import { reportTarget } from '../../../src/cli/audit.js';
import { manifestJson } from '../../../src/cli/manifest.js';

const MAIN = resolve('dist/src/cli/main.js');
const run = (args: string[], opts: { cwd?: string } = {}) => {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', cwd: opts.cwd, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

/** Every command path: "up", "lab up", ... */
function paths(specs: Readonly<Record<string, CommandSpec>>, prefix = ''): string[] {
  return Object.entries(specs).flatMap(([name, s]) => (s.sub ? paths(s.sub, `${prefix}${name} `) : [`${prefix}${name}`]));
}

const tmp = mkdtempSync(join(tmpdir(), 'lbdeploy-cli-'));
const BAD_INVENTORY = join(tmp, 'bad.yaml');
writeFileSync(BAD_INVENTORY, 'hosts:\n  lb1:\n    address: 198.18.0.11\n    port: seventy\n');

describe('cli: every command has its own help, which never acts', () => {
  for (const path of paths(COMMANDS as Record<string, CommandSpec>)) {
    it(`lbdeploy ${path} --help`, () => {
      const r = run([...path.split(' '), '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: lbdeploy ${path} `));
      assert.equal(r.stderr, '', 'nothing ran: a run logs on stderr');
    });
  }

  it('the top-level help lists every command and the exit-code table', () => {
    const r = run(['--help']);
    assert.equal(r.code, 0);
    for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
    for (const e of EXIT_TABLE) assert.match(r.stdout, new RegExp(`^ +${e.code}  ${e.name} `, 'm'));
    assert.match(r.stdout, /-l, --limit|Commands:/);
  });

  it('short flags are in the help', () => {
    const r = run(['up', '--help']);
    for (const flag of ['-l, --limit', '-f, --forks', '-p, --playbook', '-C, --check', '-D, --diff', '-t, --tags', '-o, --output']) assert.ok(r.stdout.includes(flag), flag);
  });

  it('no command: the help on stderr, exit 3 (usage)', () => {
    const r = run([]);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /^Usage: lbdeploy/);
  });

  it('a command that needs a subcommand, given none: its help, exit 3', () => {
    const r = run(['lab']);
    assert.equal(r.code, EXIT.usage);
    assert.match(r.stderr, /Usage: lbdeploy lab \[options\] \[command\]/);
  });
});

describe('cli: usage errors say what and what to do, exit 3', () => {
  const cases: { args: string[]; message: RegExp; hint: RegExp; noJson?: boolean }[] = [
    { args: ['uup', 'x.yaml'], message: /unknown command 'uup'/, hint: /did you mean up\?/ },
    { args: ['rotate-kubconfig', 'x.yaml'], message: /unknown command/, hint: /did you mean rotate-kubeconfig\?/ },
    { args: ['up', 'x.yaml', '--forsk', '3'], message: /unknown option '--forsk'/, hint: /did you mean --forks\?.*lbdeploy up --help/ },
    { args: ['lab', 'up', '--vm'], message: /unknown option '--vm'/, hint: /did you mean --vms\?.*lbdeploy lab up --help/ },
    { args: ['hosts', 'x.yaml', '-o', 'yaml'], message: /argument 'yaml' is invalid.*text, json/, hint: /lbdeploy hosts --help/ },
    { args: ['hosts'], message: /missing required argument 'INVENTORY'/, hint: /lbdeploy hosts --help/ },
    { args: ['hosts', 'a.yaml', 'b.yaml'], message: /too many arguments/, hint: /lbdeploy hosts --help/ },
    // completion prints a shell script: it has no -o.
    { args: ['completion', 'fish'], message: /value 'fish' is invalid/, hint: /--help/, noJson: true },
    { args: ['up', 'x.yaml', '--detailed-exitcode'], message: /unknown option '--detailed-exitcode'/, hint: /lbdeploy up --help/ },
  ];
  for (const c of cases) {
    it(`lbdeploy ${c.args.join(' ')}`, () => {
      const text = run(c.args);
      assert.equal(text.code, EXIT.usage, text.stderr);
      assert.match(text.stderr, c.message);
      assert.match(text.stderr, c.hint);
      assert.equal(text.stdout, '');
      if (c.noJson) return;
      const json = run([...c.args, '-o', 'json']);
      assert.equal(json.code, EXIT.usage);
      const e = JSON.parse(json.stdout) as { type: string; code: string; exit: number; message: string; hint: string };
      assert.deepEqual([e.type, e.code, e.exit], ['error', 'usage', 3]);
      assert.match(e.message, c.message);
      assert.match(e.hint, c.hint);
      assert.equal(json.stderr, '', 'with -o json the error is only the JSON');
    });
  }
});

describe('cli: errors as JSON with -o json (code, exit, message, where, hint)', () => {
  it('an invalid inventory: exit 4, each problem with file:line:col', () => {
    for (const flag of [['-o', 'json'], ['--json'], ['--output=json']]) {
      const r = run(['hosts', BAD_INVENTORY, ...flag]);
      assert.equal(r.code, EXIT.invalidInput, r.stdout + r.stderr);
      const e = JSON.parse(r.stdout) as { code: string; exit: number; where: string; message: string; problems: { where: string }[] };
      assert.equal(e.code, 'invalid-input');
      assert.equal(e.exit, 4);
      assert.match(e.where, /bad\.yaml:4:\d+$/);
      assert.match(e.message, /port/);
      assert.equal(e.problems.length, 1);
    }
  });

  it('an inventory path that is a directory: exit 4 (invalid input), as text and as JSON', () => {
    const text = run(['plan', tmp]);
    assert.equal(text.code, EXIT.invalidInput);
    assert.match(text.stderr, /is a directory, not an inventory file/);
    const json = run(['plan', tmp, '-o', 'json']);
    assert.equal(json.code, EXIT.invalidInput);
    assert.equal((JSON.parse(json.stdout) as { where: string }).where, tmp);
  });

  it('a bad --forks is a usage error (3), as every bad option value', () => {
    const r = run(['facts', 'inventory/lab.yaml', '--forks', '0', '-o', 'json']);
    assert.equal(r.code, EXIT.usage);
    const e = JSON.parse(r.stdout) as { code: string; message: string };
    assert.equal(e.code, 'usage');
    assert.match(e.message, /--forks/);
  });
});

describe('cli: output into a closed pipe', () => {
  it('lbdeploy schema | head -c 20: no EPIPE crash, exit 0, nothing on stderr', async () => {
    const child = spawn(process.execPath, [MAIN, 'schema'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Read one chunk, then close the pipe as head does.
    await new Promise<void>((res) => child.stdout.once('data', () => res()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((res) => child.on('close', res));
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
  });
});

describe('cli: values as the commands read them', () => {
  const up = COMMANDS.up.options;
  const cases: { opts: Record<string, unknown>; want: Record<string, unknown> }[] = [
    { opts: { wait: false }, want: { 'no-wait': true, wait: undefined } },
    { opts: { wait: '30' }, want: { 'no-wait': undefined, wait: '30' } },
    { opts: { preflight: false }, want: { 'no-preflight': true } },
    { opts: { preflight: true }, want: { 'no-preflight': undefined } },
    { opts: { output: 'json' }, want: { json: true, output: 'json' } },
    { opts: { json: true }, want: { json: true, output: 'json' } },
    { opts: { lockWait: '5', playbook: ['a', 'b'] }, want: { 'lock-wait': '5', playbook: ['a', 'b'] } },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.opts), () => {
      const v = valuesOf(c.opts, up);
      for (const [k, want] of Object.entries(c.want)) assert.deepEqual(v[k], want, k);
    });
  }
});

describe('cli: plan --detailed-exitcode', () => {
  const recap = (changed: number, failed = 0, unreachable = false) => ({ ok: 1, changed, failed, skipped: 0, unreachable, ms: 1 });
  const cases: { name: string; hosts: Record<string, ReturnType<typeof recap>>; detailed: boolean; want: number }[] = [
    { name: 'nothing to change', hosts: { a: recap(0), b: recap(0) }, detailed: true, want: EXIT.ok },
    { name: 'changes pending', hosts: { a: recap(0), b: recap(2) }, detailed: true, want: EXIT.attention },
    { name: 'changes pending, without the flag', hosts: { a: recap(2) }, detailed: false, want: EXIT.ok },
    { name: 'a failure wins over changes', hosts: { a: recap(2), b: recap(0, 1) }, detailed: true, want: EXIT.failed },
    { name: 'unreachable wins over changes', hosts: { a: recap(2), b: recap(0, 0, true) }, detailed: true, want: EXIT.unreachable },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(exitOf({ interrupted: false, hosts: c.hosts } as never, true, c.detailed), c.want));
  }
});

describe('cli: audit report format and file', () => {
  const warnings: string[] = [];
  const cases: { v: Record<string, string | boolean | undefined>; want?: { format: string; file?: string }; error?: RegExp; warns?: boolean }[] = [
    { v: {}, want: { format: 'table' } },
    { v: { output: 'prometheus', 'output-file': '/x.prom' }, want: { format: 'prometheus', file: '/x.prom' } },
    { v: { json: true, output: 'json' }, want: { format: 'json' } },
    { v: { format: 'junit' }, want: { format: 'junit' } },
    // A timer installed by an older lbdeploy: --format F --output FILE.
    { v: { format: 'prometheus', output: '/var/lib/x.prom' }, want: { format: 'prometheus', file: '/var/lib/x.prom' }, warns: true },
    { v: { output: '/var/lib/x.prom' }, error: /not '\/var\/lib\/x\.prom'/ },
    { v: { output: 'yaml' }, error: /table, json, junit, prometheus/ },
  ];
  for (const c of cases) {
    it(JSON.stringify(c.v), () => {
      warnings.length = 0;
      if (c.error) {
        assert.throws(() => reportTarget(c.v as never, (w) => warnings.push(w)), c.error);
        return;
      }
      assert.deepEqual(reportTarget(c.v as never, (w) => warnings.push(w)), c.want);
      assert.equal(warnings.length > 0, c.warns ?? false);
    });
  }
});

describe('cli: manifest as JSON', () => {
  it('one object as itself, several as a List', () => {
    const one = JSON.parse(manifestJson(['apiVersion: v1\nkind: Service\nmetadata: {name: a}\n'])) as { kind: string };
    assert.equal(one.kind, 'Service');
    const two = JSON.parse(manifestJson(['apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n'])) as { kind: string; items: { kind: string }[] };
    assert.equal(two.kind, 'List');
    assert.deepEqual(two.items.map((i) => i.kind), ['Service', 'ServiceAccount']);
  });

  it('lbdeploy manifest -o json is what kubectl reads: the Service with the VIP', () => {
    const r = run(['manifest', 'inventory/ipvs-dr.yaml', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const svc = JSON.parse(r.stdout) as { kind: string; spec: { externalIPs: string[] } };
    assert.equal(svc.kind, 'Service');
    assert.equal(svc.spec.externalIPs.length, 1);
  });
});

describe('cli: the exit-code table is the README\'s', () => {
  it('every code and name appears in the README table', () => {
    const readme = readFileSync('README.md', 'utf8');
    for (const e of EXIT_TABLE) assert.match(readme, new RegExp(`^\\| ${e.code} \\| ${e.name} \\|`, 'm'), `${e.code} ${e.name}`);
  });
});

describe('cli: completion', () => {
  const hosts = async () => ['lb1', 'lb2', 'web1'];
  const cases: { words: string[]; want: string[] }[] = [
    { words: [''], want: Object.entries(COMMANDS).filter(([, s]) => !('hidden' in s)).map(([k]) => k) },
    { words: ['ro'], want: ['rotate-kubeconfig'] },
    { words: ['lab', ''], want: ['up', 'down', 'status', 'renew-certs'] },
    { words: ['up', '--fo'], want: ['--forks'] },
    { words: ['up', ''], want: [':file'] },
    { words: ['up', 'inv.yaml', '-o', ''], want: ['text', 'json'] },
    { words: ['up', 'inv.yaml', '--limit', 'x', '--no-'], want: ['--no-wait', '--no-preflight'] },
    { words: ['audit', 'inv.yaml', '--html', ''], want: [':file'] },
    { words: ['audit', 'inv.yaml', '--textfile-dir', ''], want: [':dir'] },
    { words: ['drain', 'inv.yaml', 'l'], want: ['lb1', 'lb2'] },
    { words: ['drain', '-o', 'json', 'inv.yaml', ''], want: ['lb1', 'lb2', 'web1'] },
    { words: ['unlock', 'inv.yaml', 'lb1', ''], want: ['lb2', 'web1'] },
    { words: ['init', 'ip'], want: ['ipvs-dr'] },
    { words: ['completion', ''], want: ['bash', 'zsh'] },
    { words: ['audit', 'inv.yaml', '-o', 'j'], want: ['json', 'junit'] },
    { words: ['schema', '--json', ''], want: [] },
  ];
  for (const c of cases) {
    it(`lbdeploy ${c.words.join(' ')}<TAB>`, async () => assert.deepEqual(await completions(c.words, hosts), c.want));
  }

  /** A directory with `lbdeploy` on PATH running this build. */
  function binDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lbdeploy-bin-'));
    writeFileSync(join(dir, 'lbdeploy'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} "$@"\n`);
    chmodSync(join(dir, 'lbdeploy'), 0o755);
    return dir;
  }

  it('bash: the script, sourced in a real bash, completes host names from the inventory', () => {
    const dir = binDir();
    const script = run(['completion', 'bash']).stdout;
    const probe = (words: string[]) => spawnSync('bash', ['--norc', '-c', `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _lbdeploy; printf '%s\\n' "\${COMPREPLY[@]}"`], {
      encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, cwd: resolve('.'),
    });
    assert.deepEqual(probe(['lbdeploy', 'dra']).stdout.trim().split('\n'), ['drain']);
    assert.deepEqual(probe(['lbdeploy', 'drain', 'inventory/lab.yaml', 'lb']).stdout.trim().split('\n'), ['lb1', 'lb2', 'lb3']);
    assert.ok(probe(['lbdeploy', 'up', 'inventory/lab']).stdout.includes('inventory/lab.yaml'), 'files for the inventory');
    assert.deepEqual(probe(['lbdeploy', 'audit', 'x.yaml', '-o', 'p']).stdout.trim().split('\n'), ['prometheus']);
  });

  it('zsh: the script runs in a real zsh (compadd and _files stubbed; the completion system itself not driven)', () => {
    const dir = binDir();
    const script = run(['completion', 'zsh']).stdout;
    const zsh = spawnSync('zsh', ['-f', '-c', `compdef() { :; }; compadd() { shift; print -l -- "$@"; }; _files() { print FILES "$@"; }\n${script}\nwords=(lbdeploy drain inventory/lab.yaml lb); CURRENT=4; _lbdeploy\nwords=(lbdeploy up ''); CURRENT=3; _lbdeploy`], {
      encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` }, cwd: resolve('.'),
    });
    assert.equal(zsh.status, 0, zsh.stderr);
    assert.deepEqual(zsh.stdout.trim().split('\n'), ['lb1', 'lb2', 'lb3', 'FILES']);
  });
});

describe('cli: the timings event (up --timings, and -o json)', () => {
  it('each host rounded, the totals summed before rounding', async () => {
    const { emitTimings } = await import('../../../src/cli/up.js');
    const events: unknown[] = [];
    const pool = { stats: { phases: new Map([['a', { connect: 10.4, lock: 0.4 }], ['b', { connect: 10.4, lock: 0.4, wait: 3 }]]) } };
    emitTimings(pool as never, { emit: (e) => events.push(e), close: async () => undefined }, Date.now() - 1500);
    const e = events[0] as { type: string; hosts: Record<string, Record<string, number>>; totals: Record<string, number>; ms: number };
    assert.equal(e.type, 'timings');
    assert.deepEqual(e.hosts, { a: { connect: 10, lock: 0 }, b: { connect: 10, lock: 0, wait: 3 } });
    assert.deepEqual(e.totals, { connect: 21, lock: 1, wait: 3 });
    assert.ok(e.ms >= 1500);
  });
});
