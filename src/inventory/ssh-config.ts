/**
 * The operator's OpenSSH client config (~/.ssh/config, or the file the inventory's `ssh_config`
 * names), read through the ssh-config library: for a host, what OpenSSH would use (HostName, User,
 * Port, IdentityFile, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking). The inventory's own
 * connection settings win over it, as in Ansible. Patterns are matched against the host's address
 * (what `ssh ADDRESS` would be given), then its inventory name.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import SSHConfig from 'ssh-config';
import ssh2 from 'ssh2';
import type { HostKeyPolicy } from './model.js';

/** What the config says for one host; fields it does not set are absent. */
export interface SshConfigHost {
  /** The address to dial (HostName), when the config renames the host. */
  hostName?: string;
  user?: string;
  port?: number;
  /** IdentityFile entries, ~ and %-tokens expanded, in the config's order (existing files only). */
  identityFiles: string[];
  /** ProxyJump resolved to user@address:port (an alias is looked up in the same config), and that hop's own key. */
  jump?: { spec: string; identityFile?: string };
  knownHosts?: string;
  hostKeyChecking?: HostKeyPolicy;
}

export class SshConfigError extends Error {}

const cache = new Map<string, { mtimeMs: number; config: SSHConfig }>();

/** The parsed file (cached while unchanged), or undefined when it does not exist. */
export function readSshConfig(path: string): SSHConfig | undefined {
  if (!existsSync(path)) return undefined;
  const { mtimeMs } = statSync(path);
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === mtimeMs) return hit.config;
  const config = SSHConfig.parse(readFileSync(path, 'utf8'));
  cache.set(path, { mtimeMs, config });
  return config;
}

/** The default file: ~/.ssh/config. */
export const DEFAULT_SSH_CONFIG = '~/.ssh/config';

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** OpenSSH's StrictHostKeyChecking in lbdeploy's terms (ask is strict: nobody answers a prompt here). */
function policyOf(v: string | undefined): HostKeyPolicy | undefined {
  switch (v?.toLowerCase()) {
    case 'yes': case 'ask': return 'strict';
    case 'accept-new': return 'accept-new';
    case 'no': case 'off': return 'off';
    default: return undefined;
  }
}

/** ~ and the tokens OpenSSH expands in paths: %h host, %p port, %r user, %u local user, %d home, %%. */
function expandPath(p: string, host: string, port: number, user: string): string {
  const home = homedir();
  const t = p.replace(/%([hprud%])/g, (_, c: string) => ({ h: host, p: String(port), r: user, u: process.env.USER ?? 'root', d: home, '%': '%' })[c]!);
  return t.startsWith('~/') ? resolve(home, t.slice(2)) : isAbsolute(t) ? t : resolve(home, '.ssh', t);
}

/** The first of `names` that a Host pattern other than `*` matches, else the first name (the catch-all's values). */
function computeFor(config: SSHConfig, names: readonly string[]): Record<string, string | string[]> {
  for (const name of names) {
    const values = config.compute(name, { ignoreCase: true });
    if (many(values.host).some((p) => p !== '*')) return values;
  }
  return config.compute(names[0]!, { ignoreCase: true });
}

/**
 * What the config says for a host reached as `address` (or named `name` in the inventory).
 * Throws SshConfigError for what lbdeploy cannot follow (a ProxyJump of more than one hop).
 */
export function sshConfigFor(config: SSHConfig, address: string, name: string): SshConfigHost {
  const values = computeFor(config, address === name ? [address] : [address, name]);
  const hostName = one(values.hostname);
  const user = one(values.user);
  const port = one(values.port) !== undefined ? Number(one(values.port)) : undefined;
  const dial = hostName ?? address;
  const identityFiles = many(values.identityfile).map((f) => expandPath(f, dial, port ?? 22, user ?? 'root')).filter((f) => existsSync(f));
  return {
    hostName, user, port, identityFiles,
    jump: jumpOf(config, one(values.proxyjump)),
    knownHosts: one(values.userknownhostsfile)?.split(/\s+/)[0]?.replace(/^~\//, `${homedir()}/`),
    hostKeyChecking: policyOf(one(values.stricthostkeychecking)),
  };
}

/** ProxyJump: `none`, [user@]host[:port], or an alias of the same config; one hop only. */
function jumpOf(config: SSHConfig, value: string | undefined): SshConfigHost['jump'] {
  if (value === undefined || value.toLowerCase() === 'none') return undefined;
  if (value.includes(',')) throw new SshConfigError(`ProxyJump ${value} has ${value.split(',').length} hops: lbdeploy follows one`);
  const m = /^(?:ssh:\/\/)?(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new SshConfigError(`cannot read ProxyJump ${value}`);
  const alias = m[2]!.replace(/^\[|\]$/g, '');
  const hop = config.compute(alias, { ignoreCase: true });
  const user = m[1] ?? one(hop.user);
  const address = one(hop.hostname) ?? alias;
  const port = m[3] ?? one(hop.port) ?? '22';
  const key = many(hop.identityfile).map((f) => expandPath(f, address, Number(port), user ?? 'root')).find((f) => existsSync(f));
  const host = address.includes(':') ? `[${address}]` : address;
  return { spec: `${user ? `${user}@` : ''}${host}:${port}`, identityFile: key };
}

/** The identities OpenSSH tries when nothing names one: ~/.ssh/id_ed25519, id_ecdsa, id_rsa (those that exist). */
export function defaultIdentities(): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => resolve(homedir(), '.ssh', f)).filter((f) => existsSync(f));
}

/** A private key that cannot be read without its passphrase. */
export function isEncryptedKey(key: Buffer): boolean {
  const r = ssh2.utils.parseKey(key);
  return r instanceof Error && /passphrase|encrypted/i.test(r.message);
}
