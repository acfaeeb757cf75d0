/** Files: content, owner, mode; uploaded to a temp file beside the destination, checked, validated, renamed. */
import { createHash } from 'node:crypto';
import { createTwoFilesPatch } from 'diff';
import { join, raw, sh, type ShellCommand } from '../connection/shell.js';
import { normMode, parsePathFact, pathFactRequest } from './path-fact.js';
import { common, fact, type Operation, type StepOptions, type StepPlan, type FactMap, type PlanContext } from './types.js';

export interface FileOptions extends StepOptions {
  path: string;
  content: string;
  /** Octal, default 0644. */
  mode?: string | number;
  owner?: string;
  group?: string;
  /**
   * A check of the uploaded temp file before it replaces the live one: given the temp file's path
   * (a shell word), the command, e.g. (tmp) => sh`haproxy -c -f ${tmp}`. Exit 0 accepts the file.
   */
  validate?: Validate;
  /** Keep a copy of the replaced file as PATH.YYYYmmddHHMMSS.bak. */
  backup?: boolean;
  /** The content holds secrets: never show it in a diff. */
  sensitive?: boolean;
}

/** A validate command as a function of the temp file's path (a ShellCommand word: use it inside `sh`). */
export type Validate = (tmp: ShellCommand) => ShellCommand;

export interface WriteSpec {
  path: string;
  sha256: string;
  mode: string;
  owner: string;
  group: string;
  validate?: Validate;
  backup?: boolean;
}

export const EXIT_UPLOAD_INCOMPLETE = 97;
export const EXIT_VALIDATE_FAILED = 98;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The remote side of an atomic write. Content arrives on stdin into a temp file in the same
 * folder; it replaces the destination only when its checksum is complete and the validate
 * command accepts it. Any exit (failure, hang-up, interrupt) removes the temp file.
 */
export function writeFileScript(w: WriteSpec): ShellCommand {
  // The validate command is playbook code, built with `sh`; it gets the temp file as the quoted "$tmp".
  const validate = w.validate
    ? sh`if ! out=$(${w.validate(raw('"$tmp"'))} 2>&1); then printf '%s\\n' "$out" >&2; echo "lbdeploy: the validate command rejected the new $dst; the live file is untouched" >&2; exit ${EXIT_VALIDATE_FAILED}; fi`
    : sh`:`;
  const backup = w.backup ? sh`if [ -f "$dst" ]; then cp -p "$dst" "$dst.$(date +%Y%m%d%H%M%S).bak"; fi` : sh`:`;
  return sh`set -e
dst=${w.path}
dir=$(dirname "$dst")
[ -d "$dir" ] || mkdir -p "$dir"
tmp=$(mktemp "$dir/.$(basename "$dst").lbdeploy.XXXXXX")
trap 'rm -f "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
# With the connection gone, a message to stderr must fail, not kill the shell before its EXIT trap.
trap '' PIPE
cat > "$tmp"
if [ "$(sha256sum < "$tmp" | cut -d' ' -f1)" != ${w.sha256} ]; then echo "lbdeploy: upload of $dst incomplete (checksum mismatch); the live file is untouched" >&2; exit ${EXIT_UPLOAD_INCOMPLETE}; fi
chown ${`${w.owner}:${w.group}`} "$tmp"
chmod ${w.mode} "$tmp"
${validate}
${backup}
sync "$tmp" 2>/dev/null || true
mv -f "$tmp" "$dst"
trap - EXIT`;
}

/** Decide what writing `content` to a path takes, given its fact. Shared by file, sysctl and module operations. */
export function planWrite(o: FileOptions, facts: FactMap, ctx: PlanContext): StepPlan {
  const f = parsePathFact(fact(facts, pathFactRequest(o.path, ctx.diff && !o.sensitive).key));
  const mode = normMode(o.mode ?? '0644');
  const owner = o.owner ?? 'root';
  const group = o.group ?? owner;
  if (f.kind === 'dir' || f.kind === 'other') {
    return { kind: 'fail', message: `${o.path} exists and is not a regular file (${f.kind === 'dir' ? 'a directory' : f.what})`, hint: 'remove it or choose another path' };
  }
  const want = sha256(o.content);
  if (f.kind === 'file' && f.sha256 === want) {
    const attrs: ShellCommand[] = [];
    const what: string[] = [];
    if (f.owner !== owner || f.group !== group) {
      attrs.push(sh`chown ${`${owner}:${group}`} ${o.path}`);
      what.push(`owner ${f.owner}:${f.group} -> ${owner}:${group}`);
    }
    if (f.mode !== mode) {
      attrs.push(sh`chmod ${mode} ${o.path}`);
      what.push(`mode ${f.mode} -> ${mode}`);
    }
    if (attrs.length === 0) return { kind: 'ok', reason: `${o.path} is up to date` };
    return { kind: 'change', summary: `${o.path}: ${what.join(', ')}`, script: join(attrs, ' && ') };
  }
  const old = f.kind === 'file' ? f.content ?? '' : '';
  const diff = !ctx.diff ? undefined
    : o.sensitive ? `--- ${o.path}\n+++ ${o.path}\n(content hidden: the file holds secrets)\n`
    : createTwoFilesPatch(f.kind === 'absent' ? '/dev/null' : o.path, o.path, old, o.content, undefined, undefined, { context: 3 }).replace(/^(Index: .*\n)?=+\n/, '');
  return {
    kind: 'change',
    summary: f.kind === 'absent' ? `create ${o.path} (${o.content.length} bytes)` : `update ${o.path}`,
    script: writeFileScript({ path: o.path, sha256: want, mode, owner, group, validate: o.validate, backup: o.backup }),
    stdin: o.content,
    diff,
  };
}

export function file(o: FileOptions): Operation {
  return {
    ...common('file', `file ${o.path}`, o),
    facts: (ctx) => [pathFactRequest(o.path, ctx.diff && !o.sensitive)],
    plan: (facts, ctx) => planWrite(o, facts, ctx),
    result: (r) => {
      if (r.code === 0) return { changed: true };
      if (r.code === EXIT_VALIDATE_FAILED) return { changed: false, error: r.stderr.trim() };
      if (r.code === EXIT_UPLOAD_INCOMPLETE) return { changed: false, error: r.stderr.trim() };
      return { changed: false, error: (r.stderr || r.stdout).trim() || `exit ${r.code ?? 'unknown'}` };
    },
  };
}

export interface DirectoryOptions extends StepOptions {
  path: string;
  mode?: string | number;
  owner?: string;
  group?: string;
}

export function directory(o: DirectoryOptions): Operation {
  const mode = normMode(o.mode ?? '0755');
  const owner = o.owner ?? 'root';
  const group = o.group ?? owner;
  return {
    ...common('directory', `directory ${o.path}`, o),
    facts: () => [pathFactRequest(o.path)],
    plan: (facts) => {
      const f = parsePathFact(fact(facts, pathFactRequest(o.path).key));
      if (f.kind === 'file' || f.kind === 'other') return { kind: 'fail', message: `${o.path} exists and is not a directory` };
      if (f.kind === 'dir' && f.mode === mode && f.owner === owner && f.group === group) return { kind: 'ok', reason: `${o.path} is up to date` };
      const summary = f.kind === 'absent' ? `create ${o.path}` : `${o.path}: mode/owner -> ${mode} ${owner}:${group}`;
      return { kind: 'change', summary, script: sh`mkdir -p ${o.path} && chown ${`${owner}:${group}`} ${o.path} && chmod ${mode} ${o.path}` };
    },
  };
}
