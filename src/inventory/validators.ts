/**
 * JSON Schema validators (ajv), compiled once per schema. ajv's compiler costs about 100 ms of
 * start-up per run, so `npm run build` also writes standalone validator modules for the
 * inventory schema and the bundled playbooks' vars (dist/validators/<hash>.cjs, CommonJS: ajv's standalone ESM output still calls require); a schema with no
 * precompiled module (a user's own playbook) is compiled at run time.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ErrorObject } from 'ajv';
import { packageRoot } from '../package-root.js';

export interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/** One set of options for runtime and build: errors must look the same either way. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false, useDefaults: true } as const;

export function schemaHash(schema: object): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 20);
}

export function validatorsDir(): string {
  return join(packageRoot(), 'dist', 'validators');
}

const cache = new Map<string, Promise<Validator>>();

export function validatorFor(schema: object): Promise<Validator> {
  const hash = schemaHash(schema);
  let v = cache.get(hash);
  if (!v) {
    v = load(schema, hash);
    cache.set(hash, v);
  }
  return v;
}

async function load(schema: object, hash: string): Promise<Validator> {
  const file = join(validatorsDir(), `${hash}.cjs`);
  if (existsSync(file)) return ((await import(pathToFileURL(file).href)) as { default: Validator }).default;
  const Ajv = (await import('ajv')).default.default;
  return new Ajv(AJV_OPTIONS).compile(schema) as Validator;
}
