/** Typed errors: each says what went wrong, where, and what to do. */

export interface ErrorPlace {
  /** file:line:col, or a host name (with the step, when there is one). */
  where?: string;
  /** What the user can do about it. */
  hint?: string;
}

export class LbdeployError extends Error {
  readonly where?: string;
  readonly hint?: string;
  constructor(message: string, place: ErrorPlace = {}) {
    super(message);
    this.name = new.target.name;
    this.where = place.where;
    this.hint = place.hint;
  }

  /** One or two lines for the terminal: `where: what` and `→ hint`. */
  format(): string {
    const head = this.where ? `${this.where}: ${this.message}` : this.message;
    return this.hint ? `${head}\n  → ${this.hint}` : head;
  }
}

export class ConnectionError extends LbdeployError {}
export class LabError extends LbdeployError {}
