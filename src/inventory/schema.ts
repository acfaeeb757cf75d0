/**
 * The inventory's JSON Schema and the ajv validator behind it (the only module that imports ajv).
 * The schema ships with the package; the README documents it.
 */
import type { ErrorObject } from 'ajv';
import { closest } from './suggest.js';
import type { InventoryIssue } from './errors.js';
import type { PathSegment } from './source.js';
import { validatorFor } from './validators.js';

const secretRef = {
  type: 'object',
  description: 'A secret: `!secret env:NAME`, `!secret value`, or `{ secret: env:NAME }`. Masked in all output.',
  properties: { secret: { type: 'string', minLength: 1 } },
  required: ['secret'],
  additionalProperties: false,
} as const;

export const connectionSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    user: { type: 'string', minLength: 1, description: 'SSH login user (default: root)' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'SSH port (default: 22)' },
    private_key: { type: 'string', description: 'path to the private key, relative to the inventory file (without it: ssh-agent, the ssh config\'s IdentityFile, ~/.ssh/id_ed25519, id_ecdsa, id_rsa)' },
    private_key_passphrase: { ...secretRef, description: 'passphrase of an encrypted key, from an environment variable only: `!secret env:NAME` (else asked on a terminal)' },
    ssh_config: { type: 'string', minLength: 1, description: 'OpenSSH client config to read (default: ~/.ssh/config when it exists; `none`: do not read one). The inventory\'s own settings win over it' },
    password: { ...secretRef, description: 'SSH password, from an environment variable only: `!secret env:NAME`' },
    known_hosts: { type: 'string', description: 'known_hosts file (default: ~/.ssh/known_hosts)' },
    host_key_checking: { enum: ['strict', 'accept-new', 'off'], description: 'default: accept-new' },
    jump: { type: 'string', description: 'jump host: an inventory host name, or user@address[:port]' },
    become: { type: 'boolean', description: 'run commands through `sudo -n` (default: false)' },
    become_user: { type: 'string', description: 'sudo target user (default: root)' },
    connect_timeout: { type: 'number', exclusiveMinimum: 0, description: 'seconds (default: 10)' },
    command_timeout: { type: 'number', exclusiveMinimum: 0, description: 'seconds per remote command (default: 600)' },
    keepalive_interval: { type: 'number', exclusiveMinimum: 0, description: 'seconds (default: 5)' },
  },
} as const;

const varsSchema = { type: 'object', description: 'variables; values may be secrets' } as const;

const hostSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    address: { type: 'string', minLength: 1, description: 'IP address or DNS name' },
    connection: connectionSchema,
    vars: varsSchema,
  },
} as const;

export const inventorySchema = {
  $id: 'https://lbdeploy.dev/schema/inventory.json',
  type: 'object',
  additionalProperties: false,
  properties: {
    playbook: {
      description: 'playbook(s) that `up` runs: a name from playbooks/ or a path to a .ts file',
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
    },
    vars: varsSchema,
    connection: connectionSchema,
    hosts: { type: 'object', additionalProperties: hostSchema, description: 'hosts defined outside any group' },
    groups: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_-]*$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          vars: varsSchema,
          connection: connectionSchema,
          hosts: {
            type: 'object',
            // One schema, not anyOf [null, host]: an editor then reports only what is wrong in the entry.
            additionalProperties: { ...hostSchema, type: ['object', 'null'] },
            description: 'members: name -> definition (or null when defined elsewhere)',
          },
        },
      },
    },
  },
  anyOf: [{ required: ['groups'] }, { required: ['hosts'] }],
} as const;

export async function validateInventory(data: unknown): Promise<ErrorObject[]> {
  const validate = await validatorFor(inventorySchema);
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

export interface Locator {
  locate(path: readonly PathSegment[], key?: boolean): string;
}

/** ajv errors -> issues with file:line:col, dropping the noise of anyOf branches. */
export function issuesFromAjv(errors: readonly ErrorObject[], locator: Locator, rootName = 'the document'): InventoryIssue[] {
  // A member may be null or a host: "must be null" is noise when the same place has a real error.
  const isNullBranch = (e: ErrorObject) => e.keyword === 'type' && (e.params as { type?: string }).type === 'null';
  const specific = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'if')
    .filter((e) => !isNullBranch(e) || !errors.some((o) => o !== e && !isNullBranch(o) && o.keyword !== 'anyOf' && o.instancePath.startsWith(e.instancePath)));
  // When an anyOf failed, keep only the branch errors that went deepest (the most specific complaint).
  const chosen = specific.length > 0 ? specific : errors;
  const seen = new Set<string>();
  const issues: InventoryIssue[] = [];
  for (const e of chosen) {
    const path = pointerToPath(e.instancePath);
    const issue = describe(e, path, locator, rootName);
    const key = `${issue.where} ${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describe(e: ErrorObject, path: PathSegment[], locator: Locator, rootName: string): InventoryIssue {
  const name = path.length > 0 ? `'${path.join('.')}'` : rootName;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const guess = closest(key, allowed);
      return {
        where: locator.locate([...path, key], true),
        message: `unknown key '${key}' in ${name}` + (guess ? ` (did you mean '${guess}'?)` : ''),
        hint: allowed.length > 0 ? `allowed keys: ${allowed.join(', ')}` : undefined,
      };
    }
    case 'required':
      return {
        where: locator.locate(path),
        message: `${name} needs the key '${(e.params as { missingProperty: string }).missingProperty}'`,
      };
    case 'type':
      return { where: locator.locate(path), message: `${name} must be ${article((e.params as { type: string }).type)}, not ${typeName(e.data)}` };
    case 'enum':
      return {
        where: locator.locate(path),
        message: `${name} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` +
          suggestion(e.data, (e.params as { allowedValues: unknown[] }).allowedValues),
      };
    case 'propertyNames':
      return { where: locator.locate(path, true), message: `invalid name in ${name}: ${e.message ?? ''}` };
    default:
      return { where: locator.locate(path), message: `${name} ${e.message ?? 'is invalid'}` };
  }
}

function suggestion(data: unknown, allowed: unknown[]): string {
  if (typeof data !== 'string') return '';
  const guess = closest(data, allowed.filter((v): v is string => typeof v === 'string'));
  return guess ? ` (did you mean '${guess}'?)` : '';
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
