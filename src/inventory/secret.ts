/**
 * Secret values: marked in the inventory (`!secret env:NAME`, `!secret literal`, or
 * `{ secret: env:NAME }`), carried as Secret objects, and masked in every output.
 */
import { inspect } from 'node:util';

export const MASK = '********';

/** Registered symbol: Secrets from another copy of this module (a playbook loaded from source) are recognised too. */
const BRAND = Symbol.for('lbdeploy.Secret');

export class Secret {
  readonly [BRAND] = true;
  readonly #value: string;
  /** Where the value came from, e.g. `env:LB_STATS_PASSWORD` or `inline`: safe to print. */
  readonly source: string;

  constructor(value: string, source: string) {
    this.#value = value;
    this.source = source;
  }

  /** The real value, for rendering into a file or a command, never for output. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

export function isSecret(v: unknown): v is Secret {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[BRAND] === true;
}

/** The value as text: a Secret revealed (for rendering), anything else stringified. */
export function revealText(v: unknown): string {
  return isSecret(v) ? v.reveal() : String(v);
}

/** Replaces every known secret value in text with the mask. */
export class Masker {
  #values: string[] = [];

  add(secret: Secret | string): void {
    const v = typeof secret === 'string' ? secret : secret.reveal();
    // Very short values would mask ordinary words; they are still never printed as
    // values (Secret.toString masks), but are not searched for in free text.
    if (v.length < 3 || this.#values.includes(v)) return;
    this.#values.push(v);
    this.#values.sort((a, b) => b.length - a.length);
    // Secrets often travel base64-encoded (kubeconfig data, basic auth): mask that form too.
    const b64 = Buffer.from(v).toString('base64');
    if (!this.#values.includes(b64)) this.#values.push(b64);
  }

  mask(text: string): string {
    let out = text;
    for (const v of this.#values) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }

  /** Deep copy with every string masked and every Secret replaced by the mask. */
  maskDeep<T>(value: T): T {
    return maskValue(value, this) as T;
  }
}

function maskValue(v: unknown, m: Masker): unknown {
  if (typeof v === 'string') return m.mask(v);
  if (isSecret(v)) return MASK;
  if (Array.isArray(v)) return v.map((x) => maskValue(x, m));
  if (v && typeof v === 'object' && !(v instanceof Buffer)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskValue(x, m)]));
  }
  return v;
}

/** Walk a value and collect every Secret in it. */
export function collectSecrets(v: unknown, out: Secret[] = []): Secret[] {
  if (isSecret(v)) out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => collectSecrets(x, out));
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => collectSecrets(x, out));
  return out;
}
