/** File and directory facts: type, mode, owner, group, size, sha256 and (for diffs) content. */
import { sh } from '../connection/shell.js';
import type { FactRequest, FactResult } from '../operations/types.js';

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
  };
}

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
