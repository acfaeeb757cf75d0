/** Inventory errors: one or more issues, each with file:line:col, what was expected, what to do. */
import { LbdeployError } from '../errors.js';

export interface InventoryIssue {
  where: string;
  message: string;
  hint?: string;
}

export class InventoryError extends LbdeployError {
  constructor(readonly issues: InventoryIssue[]) {
    super(issues.map((i) => `${i.where}: ${i.message}`).join('\n'));
  }

  override format(): string {
    const lines = this.issues.map((i) => (i.hint ? `${i.where}: ${i.message}\n  → ${i.hint}` : `${i.where}: ${i.message}`));
    const head = this.issues.length === 1 ? 'invalid inventory' : `invalid inventory (${this.issues.length} problems)`;
    return `${head}:\n${lines.join('\n')}`;
  }
}
