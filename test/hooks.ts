/** Root hooks for every mocha run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { releaseLab, releaseVms } from './helpers/lab.js';

// The CLI's default history (audit, failover-test) goes here, not into this machine's
// /var/lib/lbdeploy or ~/.local/state: every test run starts with none and leaves none.
const state = mkdtempSync(join(tmpdir(), 'lbdeploy-state-'));
process.env.XDG_STATE_HOME = state;

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    await releaseVms();
    await releaseLab();
    rmSync(state, { recursive: true, force: true });
  },
};
