/** Real certificates for tests, made by the lab's openssl CA in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabPki } from '../../src/lab/pki.js';

export async function withPki<T>(fn: (pki: LabPki) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lbd-pki-'));
  try {
    return await fn(new LabPki(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
