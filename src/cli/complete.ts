/**
 * Shell completion. `lbdeploy completion bash|zsh` prints a small script; on TAB it asks
 * `lbdeploy __complete -- WORDS...` (the words up to the cursor), which answers from specs.ts: commands,
 * options, an option's choices, inventory files, and after an inventory the hosts in it. An answer of
 * `:file` or `:dir` hands the word to the shell's own file completion.
 */
import { consoleOutput as out } from '../report/console.js';
import { COMMANDS, type ArgumentSpec, type CommandSpec, type OptionSpec } from './specs.js';
import { EXIT } from './exit-codes.js';
import { UsageError, failure } from './common.js';

const BASH = `# lbdeploy completion for bash: eval "$(lbdeploy completion bash)" in ~/.bashrc
_lbdeploy() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" IFS=$'\\n' out
  out=$(lbdeploy __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  case "$out" in
    :file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
    :dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
    *) COMPREPLY=($(compgen -W "$out" -- "$cur")) ;;
  esac
}
complete -F _lbdeploy lbdeploy
`;

const ZSH = `#compdef lbdeploy
# lbdeploy completion for zsh: eval "$(lbdeploy completion zsh)" in ~/.zshrc (after compinit)
_lbdeploy() {
  local -a out
  out=("\${(@f)$(lbdeploy __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  case "\${out[1]}" in
    :file) _files ;;
    :dir) _files -/ ;;
    *) compadd -- "\${out[@]}" ;;
  esac
}
compdef _lbdeploy lbdeploy
`;

export async function runCompletion(positionals: string[]): Promise<number> {
  const [shell] = positionals;
  if (shell === 'bash') out.line(BASH.trimEnd());
  else if (shell === 'zsh') out.line(ZSH.trimEnd());
  else return failure(new UsageError(`no completion for '${shell ?? ''}'`, { hint: 'lbdeploy completion bash, or zsh' }));
  return EXIT.ok;
}

/** What the shell may put in place of the last word; `:file`/`:dir` for its own file completion. */
export async function completions(words: readonly string[], hostsOf: (inventory: string) => Promise<string[]> = inventoryHosts): Promise<string[]> {
  const cur = words[words.length - 1] ?? '';
  const before = words.slice(0, -1);
  let spec: CommandSpec = { summary: '', args: [], options: {}, sub: COMMANDS };
  const operands: string[] = [];
  let pending: OptionSpec | undefined;
  for (const w of before) {
    if (pending) {
      pending = undefined;
      continue;
    }
    if (w.startsWith('-') && w !== '-') {
      const o = optionNamed(spec, w);
      if (o?.type === 'string' && !w.includes('=')) pending = o;
      continue;
    }
    if (operands.length === 0 && spec.sub?.[w]) spec = spec.sub[w]!;
    else operands.push(w);
  }
  const prefixed = (xs: readonly string[]) => xs.filter((x) => x.startsWith(cur));
  if (pending) return pending.choices ?? pending.suggest ? prefixed(pending.choices ?? pending.suggest!) : /FILE/.test(pending.value ?? '') ? [':file'] : /DIR/.test(pending.value ?? '') ? [':dir'] : [];
  if (cur.startsWith('-')) {
    const longs = Object.entries(spec.options).filter(([, o]) => !o.hidden).map(([k]) => `--${k}`);
    return prefixed([...longs, '--help']);
  }
  if (spec.sub && operands.length === 0) return prefixed(Object.entries(spec.sub).filter(([, s]) => !s.hidden).map(([k]) => k));
  const arg: ArgumentSpec | undefined = spec.args[operands.length] ?? (spec.args.at(-1)?.variadic ? spec.args.at(-1) : undefined);
  if (!arg?.complete) return [];
  if (arg.complete === 'file') return [':file'];
  if (arg.complete === 'dir') return [':dir'];
  if (arg.complete === 'host') return operands[0] ? prefixed((await hostsOf(operands[0])).filter((h) => !operands.includes(h))) : [];
  if (arg.complete === 'kind') {
    const { KINDS } = await import('../kinds/registry.js');
    return prefixed(KINDS.filter((k) => k.init).map((k) => k.name));
  }
  return prefixed(arg.complete);
}

function optionNamed(spec: CommandSpec, word: string): OptionSpec | undefined {
  const entries = Object.entries(spec.options);
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0];
    return entries.find(([k]) => k === name)?.[1];
  }
  // -o json, or -ojson (the value joined): only a lone short flag takes the next word.
  if (word.length > 2) return undefined;
  return entries.find(([, o]) => o.short === word.slice(1))?.[1];
}

/** The host names of an inventory (nothing connects; a broken inventory offers none). */
async function inventoryHosts(file: string): Promise<string[]> {
  try {
    const { loadInventory } = await import('../inventory/load.js');
    return (await loadInventory(file, { offline: true })).hosts.map((h) => h.name);
  } catch {
    return [];
  }
}

export async function answerCompletion(words: string[]): Promise<number> {
  const answers = await completions(words);
  if (answers.length > 0) out.line(answers.join('\n'));
  return EXIT.ok;
}
