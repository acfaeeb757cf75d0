/** File and directory facts: type, mode, owner, group, size, sha256 and (for diffs) content. */
import { sh } from '../connection/shell.js';
import type { FactGroup, FactRequest, FactResult } from './types.js';

export type PathFact =
  | { kind: 'absent' }
  | { kind: 'file'; mode: string; owner: string; group: string; size: number; sha256: string; content?: string }
  | { kind: 'dir'; mode: string; owner: string; group: string }
  | { kind: 'other'; what: string };

export function pathFactRequest(path: string, withContent = false): FactRequest {
  const content = withContent ? sh`; base64 -w0 < "$p"` : sh``;
  return {
    key: `path:${path}${withContent ? ':content' : ''}`,
    command: sh`p=${path}; if [ -L "$p" ]; then echo other symlink; elif [ -d "$p" ]; then stat -c 'dir %a %U %G' "$p";
elif [ -f "$p" ]; then stat -c 'file %a %U %G %s' "$p"; sha256sum < "$p" | cut -d' ' -f1${content};
elif [ -e "$p" ]; then echo other special; else echo absent; fi`,
    // Without content, every path of a batch shares one stat and one sha256sum.
    ...(withContent ? {} : { group: { ...PATH_GROUP, arg: path } }),
  };
}

/**
 * Every path's type from the shell's own tests (no process), then one stat for the regular files,
 * one sha256sum for them and one stat for the directories. Lines come back in argument order;
 * a path that changed type between the tests and stat shows as a count that does not add up.
 */
const PATH_GROUP: Omit<FactGroup, 'arg'> = {
  id: 'path',
  command: (paths) => sh`for p in ${paths}; do if [ -L "$p" ]; then echo other symlink; elif [ -d "$p" ]; then echo dir; elif [ -f "$p" ]; then echo file; elif [ -e "$p" ]; then echo other special; else echo absent; fi; done
set --; for p in ${paths}; do if [ ! -L "$p" ] && [ -f "$p" ]; then set -- "$@" "$p"; fi; done
if [ $# -gt 0 ]; then stat -c '%a %U %G %s' -- "$@" && sha256sum -- "$@" || exit 1; fi
set --; for p in ${paths}; do if [ ! -L "$p" ] && [ -d "$p" ]; then set -- "$@" "$p"; fi; done
if [ $# -gt 0 ]; then stat -c '%a %U %G' -- "$@" || exit 1; fi`,
  split(stdout, paths, code) {
    if (code !== 0) return `exit ${code}`;
    const lines = stdout.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const types = lines.slice(0, paths.length);
    const files = types.filter((t) => t === 'file').length;
    const dirs = types.filter((t) => t === 'dir').length;
    if (types.length !== paths.length || lines.length !== paths.length + 2 * files + dirs) return 'the paths changed while their state was read';
    const fileStat = lines.slice(paths.length, paths.length + files);
    const sums = lines.slice(paths.length + files, paths.length + 2 * files).map((l) => /^\\?([0-9a-f]{64}) /.exec(l)?.[1]);
    const dirStat = lines.slice(paths.length + 2 * files);
    if (sums.some((s) => s === undefined)) return 'sha256sum printed something else than sums';
    let f = 0;
    let d = 0;
    return types.map((t) => {
      if (t === 'file') {
        const i = f++;
        return { stdout: `file ${fileStat[i]}\n${sums[i]}\n`, code: 0 };
      }
      if (t === 'dir') return { stdout: `dir ${dirStat[d++]}\n`, code: 0 };
      return { stdout: `${t}\n`, code: 0 };
    });
  },
};

export function pathFactKey(path: string, withContent = false): string {
  return pathFactRequest(path, withContent).key;
}

export function parsePathFact(f: FactResult): PathFact {
  const [head = '', sha = '', b64] = f.stdout.split('\n');
  const [kind, mode = '', owner = '', group = '', size = '0'] = head.split(' ');
  switch (kind) {
    case 'absent':
      return { kind: 'absent' };
    case 'dir':
      return { kind: 'dir', mode: normMode(mode), owner, group };
    case 'file':
      return {
        kind: 'file', mode: normMode(mode), owner, group, size: Number(size), sha256: sha,
        content: b64 !== undefined ? Buffer.from(b64, 'base64').toString('utf8') : undefined,
      };
    default:
      return { kind: 'other', what: head.replace(/^other /, '') || 'unreadable' };
  }
}

/** Modes compare as four octal digits: '644' and '0644' are the same. */
export function normMode(mode: string | number): string {
  const s = typeof mode === 'number' ? mode.toString(8) : mode.replace(/^0o/, '');
  return s.padStart(4, '0');
}
