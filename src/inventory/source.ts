/** A YAML file kept with its syntax tree, so any value can be traced back to file:line:col. */
import { relative } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node, type Pair } from '../yaml.js';
import { InventoryError, type InventoryIssue } from './errors.js';

export type PathSegment = string | number;

/** `!secret env:NAME` / `!secret value`: becomes the same plain shape as `{ secret: ... }`. */
const secretTag = {
  tag: '!secret',
  resolve: (value: string) => ({ secret: value }),
};

export class YamlSource {
  readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();
  /** The file name as shown in messages: relative to the working folder when inside it. */
  readonly shownName: string;

  constructor(readonly file: string, readonly text: string) {
    const rel = relative(process.cwd(), file);
    this.shownName = rel.startsWith('..') ? file : rel;
    this.doc = parseDocument(text, {
      lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, customTags: [secretTag], strict: true,
    });
    const issues: InventoryIssue[] = this.doc.errors.map((e) => ({
      where: this.at(e.pos[0]),
      message: syntaxMessage(e.code, e.message),
      hint: syntaxHint(e.code),
    }));
    if (issues.length > 0) throw new InventoryError(issues);
  }

  /** file:line:col of a character offset. */
  at(offset: number): string {
    const { line, col } = this.lines.linePos(offset);
    return `${this.shownName}:${line}:${col}`;
  }

  /** The node at a path (a value), or undefined. */
  node(path: readonly PathSegment[]): Node | undefined {
    return (this.doc.getIn(path, true) as Node | undefined) ?? undefined;
  }

  /** The key/value pair whose key is the last segment of path. */
  pair(path: readonly PathSegment[]): Pair | undefined {
    const parent = path.length === 1 ? this.doc.contents : this.node(path.slice(0, -1));
    if (!isMap(parent)) return undefined;
    const last = path[path.length - 1];
    return parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
  }

  /**
   * Where a path is written: the key when asked for (unknown keys), else the value; falling back to
   * the nearest ancestor that exists.
   */
  locate(path: readonly PathSegment[], key = false): string {
    for (let n = path.length; n > 0; n--) {
      const p = path.slice(0, n);
      if (key && n === path.length) {
        const pr = this.pair(p);
        const range = (pr?.key as Node | undefined)?.range;
        if (range) return this.at(range[0]);
      }
      const node = this.node(p);
      if (node?.range) return this.at(node.range[0]);
      const pr = this.pair(p);
      const keyRange = (pr?.key as Node | undefined)?.range;
      if (keyRange) return this.at(keyRange[0]);
    }
    return `${this.shownName}:1:1`;
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  /** Is the node at path a sequence? (for messages) */
  isSeq(path: readonly PathSegment[]): boolean {
    return isSeq(this.node(path));
  }
}

function syntaxMessage(code: string, message: string): string {
  const first = message.split('\n')[0] ?? message;
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'duplicate key: each key may appear once in a mapping';
    case 'TAB_AS_INDENT':
      return 'tab used for indentation: YAML indents with spaces only';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return `invalid YAML: ${first}`;
    default:
      return `invalid YAML (${code}): ${first}`;
  }
}

function syntaxHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'remove or merge the repeated key';
    case 'TAB_AS_INDENT':
      return 'replace the tab with spaces';
    case 'BAD_INDENT':
      return 'align the key with its siblings';
    default:
      return undefined;
  }
}
