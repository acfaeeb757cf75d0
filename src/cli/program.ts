/**
 * The command tree on commander, made from specs.ts: each command's --help (which never acts), "did you
 * mean" for commands and options, choices checked, one exit-code table, errors as text or (-o json) JSON.
 * A command's own modules load only when it runs.
 */
import { Argument, Command, CommanderError, Option } from 'commander';
import { packageVersion } from '../package-root.js';
import { COMMANDS, type CommandSpec, type OptionSpec } from './specs.js';
import { EXIT, exitTable } from './exit-codes.js';
import { failure, outputMode, UsageError } from './common.js';

/** A command's run: its operands and its values keyed by the long option names. */
export type Run = (positionals: string[], values: Record<string, unknown>) => Promise<number>;

/** Each command path ("up", "lab up") to its run, loaded on use. */
const RUNS: Record<string, () => Promise<Run>> = {
  up: async () => { const m = await import('./up.js'); return (p, v) => m.runUp(p, v as never, 'up'); },
  plan: async () => { const m = await import('./up.js'); return (p, v) => m.runUp(p, v as never, 'plan'); },
  'rotate-kubeconfig': async () => { const m = await import('./up.js'); return (p, v) => m.runUp(p, { ...v, playbook: ['kubeconfig'] } as never, 'up', 'rotate-kubeconfig'); },
  hosts: async () => (await import('./hosts.js')).runHosts as Run,
  facts: async () => (await import('./facts.js')).runFactsCommand as Run,
  verify: async () => (await import('./verify.js')).runVerify as Run,
  'failover-test': async () => (await import('./failover.js')).runFailover as Run,
  preflight: async () => (await import('./preflight.js')).runPreflight as Run,
  drain: async () => { const m = await import('./drain.js'); return (p, v) => m.runDrain(p, v as never, false); },
  undrain: async () => { const m = await import('./drain.js'); return (p, v) => m.runDrain(p, v as never, true); },
  unlock: async () => (await import('./unlock.js')).runUnlock as Run,
  manifest: async () => (await import('./manifest.js')).runManifest as Run,
  audit: async () => (await import('./audit.js')).runAudit as Run,
  init: async () => (await import('./init.js')).runInit as Run,
  'image build': async () => (await import('./image.js')).runImage as Run,
  schema: async () => (await import('./schema.js')).runSchema as Run,
  'lab up': async () => { const m = await import('./lab.js'); return (p, v) => m.runLab('up', v as never); },
  'lab down': async () => { const m = await import('./lab.js'); return (p, v) => m.runLab('down', v as never); },
  'lab status': async () => { const m = await import('./lab.js'); return (p, v) => m.runLab('status', v as never); },
  'lab renew-certs': async () => { const m = await import('./lab.js'); return (p, v) => m.runLab('renew-certs', v as never); },
  completion: async () => (await import('./complete.js')).runCompletion as Run,
};

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function optionOf(key: string, o: OptionSpec): Option {
  const flags = `${o.short ? `-${o.short}, ` : ''}--${key}${o.type === 'string' ? ` <${o.value ?? 'VALUE'}>` : ''}`;
  const opt = new Option(flags, o.help);
  if (o.default !== undefined) opt.default(o.default);
  if (o.choices) opt.choices(o.choices);
  if (o.multiple) opt.argParser((v: string, prev: unknown) => [...(Array.isArray(prev) ? (prev as string[]) : []), v]);
  if (o.hidden) opt.hideHelp();
  return opt;
}

/** The values a run reads, keyed by long option name; `-o json` and `--json` are the same. */
export function valuesOf(opts: Record<string, unknown>, options: Readonly<Record<string, OptionSpec>>): Record<string, unknown> {
  const v: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(options)) {
    if (s.type === 'boolean' && key.startsWith('no-')) {
      v[key] = opts[camel(key.slice(3))] === false ? true : undefined;
      continue;
    }
    const x = opts[camel(key)];
    v[key] = s.type === 'string' && typeof x !== 'string' && !Array.isArray(x) ? undefined : x;
  }
  if (v.output === 'json') v.json = true;
  else if (v.json === true && v.output === undefined && 'output' in options) v.output = 'json';
  return v;
}

function addCommand(parent: Command, name: string, spec: CommandSpec, path: string, onRun: (path: string, positionals: string[], values: Record<string, unknown>) => void): void {
  const cmd = parent.command(name, { hidden: spec.hidden }).description(spec.summary);
  for (const a of spec.args) {
    const arg = new Argument(`${a.required ? '<' : '['}${a.name}${a.variadic ? '...' : ''}${a.required ? '>' : ']'}`, a.help);
    if (Array.isArray(a.complete)) arg.choices(a.complete as string[]);
    cmd.addArgument(arg);
  }
  for (const [key, o] of Object.entries(spec.options)) cmd.addOption(optionOf(key, o));
  if (spec.help) cmd.addHelpText('after', `\n${spec.help}`);
  if (spec.sub) {
    for (const [subName, sub] of Object.entries(spec.sub)) addCommand(cmd, subName, sub, `${path} ${subName}`, onRun);
    return;
  }
  cmd.action((...a: unknown[]) => {
    const self = a[a.length - 1] as Command;
    onRun(path, self.args, valuesOf(self.opts(), spec.options));
  });
}

export function buildProgram(onRun: (path: string, positionals: string[], values: Record<string, unknown>) => void): Command {
  const program = new Command('lbdeploy')
    .description('Highly-available load balancers for Kubernetes on private networks, over plain SSH.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show this help (it never acts)')
    .helpCommand('help [COMMAND]', 'the help of a command')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: () => undefined, // printed by run(), as text or JSON
    })
    .addHelpText('after', `\n${exitTable()}\n\nMore: README.md, docs/. Shell completion: lbdeploy completion bash|zsh`);
  for (const [name, spec] of Object.entries(COMMANDS)) addCommand(program, name, spec as CommandSpec, name, onRun);
  program.command('__complete', { hidden: true }).argument('[WORDS...]').allowUnknownOption().helpOption(false)
    .action((words: string[]) => onRun('__complete', words, {}));
  return program;
}

/** `-o json` (or --json) anywhere on the command line: the parser's own errors are JSON too. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--json' || a === '-ojson' || a === '--output=json' || ((a === '-o' || a === '--output') && argv[i + 1] === 'json'));
}

/** The commands named on the command line ("lab up"), for a usage error's hint. */
function commandPath(argv: readonly string[]): string {
  const [first, second] = argv;
  const spec = first !== undefined ? (COMMANDS as Record<string, CommandSpec>)[first] : undefined;
  if (!spec) return '';
  return second !== undefined && spec.sub?.[second] ? `${first} ${second}` : first!;
}

/** Run the command line; the process's exit code. */
export async function run(argv: string[]): Promise<number> {
  outputMode.json = wantsJson(argv);
  let chosen: { path: string; positionals: string[]; values: Record<string, unknown> } | undefined;
  const program = buildProgram((path, positionals, values) => {
    chosen = { path, positionals, values };
  });
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT.ok;
    if (e.code === 'commander.help') return EXIT.usage; // a command that needs a subcommand: its help was shown
    const [message, ...rest] = e.message.replace(/^error: /, '').split('\n');
    const suggestion = rest.join(' ').replace(/^\((.*)\)$/, '$1').replace(/^Did/, 'did');
    const path = commandPath(argv);
    const usage = `lbdeploy ${path ? `${path} ` : ''}--help shows the usage`;
    const hint = suggestion ? `${suggestion} (${usage})` : usage;
    return failure(new UsageError(message!, { hint }));
  }
  if (!chosen) return EXIT.usage;
  if (chosen.path === '__complete') return (await import('./complete.js')).answerCompletion(chosen.positionals);
  return (await RUNS[chosen.path]!())(chosen.positionals, chosen.values);
}
