/** Root hooks for every mocha run. */
import { releaseLab, releaseVms } from './helpers/lab.js';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(180_000);
    await releaseVms();
    await releaseLab();
  },
};
