/**
 * Load an inventory: YAML (file:line:col errors) -> JSON Schema (ajv) -> secrets -> merged hosts
 * -> semantic checks. Nothing connects anywhere until this has succeeded.
 *
 * Precedence, lowest first: inventory `vars` < each group's `vars` in file order (a later group
 * wins) < the host's own `vars`. Connection settings merge the same way over built-in defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { InventoryError, type InventoryIssue } from './errors.js';
import { CONNECTION_DEFAULTS, type ConnectionSettings, type Host, type Inventory } from './model.js';
import { issuesFromAjv, validateInventory } from './schema.js';
import { Masker, Secret } from './secret.js';
import { YamlSource, type PathSegment } from './source.js';
import { closest } from './suggest.js';
import { DEFAULT_SSH_CONFIG, defaultIdentities, isEncryptedKey, readSshConfig, SshConfigError, sshConfigFor, type SshConfigHost } from './ssh-config.js';

type Raw = Record<string, unknown>;
interface RawConnection {
  user?: string; port?: number; private_key?: string; private_key_passphrase?: Secret; password?: Secret; known_hosts?: string;
  host_key_checking?: ConnectionSettings['hostKeyChecking']; jump?: string; become?: boolean; become_user?: string;
  connect_timeout?: number; command_timeout?: number; keepalive_interval?: number; ssh_config?: string;
}
interface RawHost { address?: string; connection?: RawConnection; vars?: Raw }
interface RawGroup { vars?: Raw; connection?: RawConnection; hosts?: Record<string, RawHost | null> }
interface RawInventory { playbook?: string | string[]; vars?: Raw; connection?: RawConnection; hosts?: Record<string, RawHost>; groups?: Record<string, RawGroup> }

export interface LoadOptions {
  /** Environment for `env:` secrets (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Nothing will connect (e.g. `manifest`): a private key need not exist yet. */
  offline?: boolean;
}

export async function loadInventory(file: string, options: LoadOptions = {}): Promise<Inventory> {
  const path = resolve(file);
  if (!existsSync(path)) {
    throw new InventoryError([{ where: file, message: 'no such inventory file', hint: 'give the path to an inventory YAML file' }]);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'EISDIR' ? 'is a directory, not an inventory file' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${(e as Error).message})`;
    throw new InventoryError([{ where: file, message: what, hint: code === 'EISDIR' ? `give the inventory YAML file inside it (e.g. ${file.replace(/\/$/, '')}/inventory.yaml)` : 'give the path to an inventory YAML file' }]);
  }
  return parseInventory(path, text, options);
}

export async function parseInventory(path: string, text: string, options: LoadOptions = {}): Promise<Inventory> {
  const source = new YamlSource(path, text);
  const data = source.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InventoryError([{ where: source.locate([]), message: 'an inventory is a mapping with `groups:` (and optionally `vars:`, `connection:`, `playbook:`)' }]);
  }
  const schemaErrors = await validateInventory(data);
  if (schemaErrors.length > 0) throw new InventoryError(issuesFromAjv(schemaErrors, source));

  const masker = new Masker();
  const issues: InventoryIssue[] = [];
  const raw = resolveSecrets(data, [], source, options.env ?? process.env, masker, issues) as RawInventory;
  if (issues.length > 0) throw new InventoryError(issues);
  return build(path, source, raw, masker, options.offline ?? false);
}

/** Turn every `{ secret: ... }` into a Secret; `env:NAME` reads the environment. */
function resolveSecrets(v: unknown, path: PathSegment[], source: YamlSource, env: NodeJS.ProcessEnv, masker: Masker, issues: InventoryIssue[]): unknown {
  if (Array.isArray(v)) return v.map((x, i) => resolveSecrets(x, [...path, i], source, env, masker, issues));
  if (v === null || typeof v !== 'object') return v;
  const obj = v as Raw;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'secret' && typeof obj.secret === 'string') {
    const ref = obj.secret;
    if (ref.startsWith('env:')) {
      const name = ref.slice(4);
      const value = env[name];
      if (value === undefined || value === '') {
        issues.push({ where: source.locate(path), message: `environment variable ${name} is not set (needed for a secret)`, hint: `export ${name}=... before running lbdeploy` });
        return new Secret('', ref);
      }
      const s = new Secret(value, ref);
      masker.add(s);
      return s;
    }
    const s = new Secret(ref, 'inline');
    masker.add(s);
    return s;
  }
  return Object.fromEntries(keys.map((k) => [k, resolveSecrets(obj[k], [...path, k], source, env, masker, issues)]));
}

function build(path: string, source: YamlSource, inv: RawInventory, masker: Masker, offline: boolean): Inventory {
  const dir = dirname(path);
  const issues: InventoryIssue[] = [];
  interface Acc { address?: string; addressWhere?: string; where: string; groups: string[]; layers: { vars?: Raw; connection?: RawConnection; path: PathSegment[] }[]; own?: { host: RawHost; path: PathSegment[] } }
  const acc = new Map<string, Acc>();
  const groups = new Map<string, string[]>();
  const entry = (name: string, where: string): Acc => {
    let a = acc.get(name);
    if (!a) acc.set(name, (a = { where, groups: [], layers: [] }));
    return a;
  };
  const define = (name: string, host: RawHost | null, hostPath: PathSegment[]) => {
    const a = entry(name, source.locate(hostPath, true));
    if (!host) return;
    if (host.address !== undefined) {
      if (a.address !== undefined && a.address !== host.address) {
        issues.push({ where: source.locate([...hostPath, 'address']), message: `host '${name}' has address ${host.address} here but ${a.address} at ${a.addressWhere}`, hint: 'give a host one address; other groups can list it with `' + name + ':` and no definition' });
      } else {
        a.address = host.address;
        a.addressWhere = source.locate([...hostPath, 'address']);
      }
    }
    if (host.vars || host.connection) {
      if (a.own) issues.push({ where: source.locate(hostPath, true), message: `host '${name}' has vars/connection in two places (also at ${source.locate(a.own.path, true)})`, hint: 'keep host-level settings in one definition' });
      else a.own = { host, path: hostPath };
    }
  };
  for (const [name, host] of Object.entries(inv.hosts ?? {})) define(name, host, ['hosts', name]);
  for (const [gname, group] of Object.entries(inv.groups ?? {})) {
    const members: string[] = [];
    for (const [hname, host] of Object.entries(group.hosts ?? {})) {
      define(hname, host, ['groups', gname, 'hosts', hname]);
      const a = acc.get(hname)!;
      a.groups.push(gname);
      a.layers.push({ vars: group.vars, connection: group.connection, path: ['groups', gname] });
      members.push(hname);
    }
    groups.set(gname, members);
    if (acc.has(gname)) issues.push({ where: source.locate(['groups', gname], true), message: `'${gname}' is both a group and a host name`, hint: 'rename one: --limit and host patterns would be ambiguous' });
  }

  const hosts: Host[] = [];
  for (const [name, a] of acc) {
    if (a.address === undefined) {
      issues.push({ where: a.where, message: `host '${name}' has no address`, hint: `add 'address: <ip or name>' to one definition of ${name}` });
      continue;
    }
    const layers = [
      { vars: inv.vars, connection: inv.connection, path: [] as PathSegment[] },
      ...a.layers,
      ...(a.own ? [{ vars: a.own.host.vars, connection: a.own.host.connection, path: a.own.path }] : []),
    ];
    const vars: Raw = {};
    const varPaths: Record<string, PathSegment[]> = {};
    let conn: RawConnection = {};
    for (const l of layers) {
      for (const [k, v] of Object.entries(l.vars ?? {})) {
        vars[k] = v;
        varPaths[k] = [...l.path, 'vars', k];
      }
      conn = { ...conn, ...(l.connection ?? {}) };
    }
    const connection = withSshConfig(connectionSettings(conn, dir), conn, dir, name, a.address, offline, (message, hint, where) => issues.push({ where: where ?? locateConn(source, inv, { name, groups: a.groups }, 'ssh_config'), message, hint }));
    hosts.push({ name, address: a.address, groups: a.groups, vars, varPaths, where: a.where, connection });
  }

  // Semantic checks that a schema cannot express.
  const names = hosts.map((h) => h.name);
  for (const h of hosts) {
    const jump = h.connection.jump;
    if (jump && !jump.includes('@') && !jump.includes('.') && !jump.includes(':') && !names.includes(jump)) {
      const guess = closest(jump, names);
      issues.push({ where: locateConn(source, inv, h, 'jump'), message: `jump host '${jump}' is not an inventory host` + (guess ? ` (did you mean '${guess}'?)` : ''), hint: 'name an inventory host, or write user@address[:port]' });
    }
    if (jump === h.name) issues.push({ where: locateConn(source, inv, h, 'jump'), message: `host '${h.name}' cannot be its own jump host` });
    const pw = h.connection.password;
    if (pw && !pw.source.startsWith('env:')) {
      issues.push({ where: locateConn(source, inv, h, 'password'), message: 'an SSH password must come from an environment variable', hint: 'write `password: !secret env:NAME` and export NAME' });
    }
    const phrase = h.connection.passphrase;
    if (phrase && !phrase.source.startsWith('env:')) {
      issues.push({ where: locateConn(source, inv, h, 'private_key_passphrase'), message: 'a key passphrase must come from an environment variable (or be typed when asked)', hint: 'write `private_key_passphrase: !secret env:NAME` and export NAME' });
    }
    const key = h.connection.privateKey;
    if (!offline && key && !existsSync(key)) {
      issues.push({ where: locateConn(source, inv, h, 'private_key'), message: `private key ${key} does not exist`, hint: 'paths are relative to the inventory file' });
    } else if (!offline && key && !phrase && !process.stdin.isTTY && isEncryptedKey(readFileSync(key))) {
      issues.push({ where: locateConn(source, inv, h, 'private_key'), message: `private key ${key} is encrypted, and there is no terminal to ask its passphrase on`, hint: 'give it in private_key_passphrase: !secret env:NAME, or load the key into ssh-agent and leave private_key out' });
    }
  }
  const playbooks = inv.playbook === undefined ? [] : Array.isArray(inv.playbook) ? inv.playbook : [inv.playbook];
  if (issues.length > 0) throw new InventoryError(dedupe(issues));
  return {
    file: path, dir, source, playbooks, playbookWhere: inv.playbook !== undefined ? source.locate(['playbook']) : undefined,
    hosts, groups, masker,
  };
}

function dedupe(issues: InventoryIssue[]): InventoryIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => (seen.has(i.where + i.message) ? false : (seen.add(i.where + i.message), true)));
}

/** Where a connection key that applies to host h is written (host, then groups, then top level). */
function locateConn(source: YamlSource, inv: RawInventory, h: Pick<Host, 'name' | 'groups'>, key: keyof RawConnection): string {
  for (const [gname, g] of Object.entries(inv.groups ?? {}).reverse()) {
    const def = g.hosts?.[h.name];
    if (def?.connection?.[key] !== undefined) return source.locate(['groups', gname, 'hosts', h.name, 'connection', key]);
  }
  if (inv.hosts?.[h.name]?.connection?.[key] !== undefined) return source.locate(['hosts', h.name, 'connection', key]);
  for (const g of [...h.groups].reverse()) {
    if (inv.groups?.[g]?.connection?.[key] !== undefined) return source.locate(['groups', g, 'connection', key]);
  }
  return source.locate(['connection', key]);
}

const relativeTo = (dir: string) => (p: string) => (p.startsWith('~/') ? resolve(homedir(), p.slice(2)) : isAbsolute(p) ? p : resolve(dir, p));

/**
 * What the operator's ssh config (~/.ssh/config, or `ssh_config: FILE`; `none` for nothing) adds
 * where the inventory says nothing: the address to dial, user, port, identities, jump host,
 * known_hosts and host key checking. Without a key anywhere, OpenSSH's default identities.
 */
function withSshConfig(base: ConnectionSettings, c: RawConnection, dir: string, name: string, address: string, offline: boolean, issue: (message: string, hint?: string, where?: string) => void): ConnectionSettings {
  const file = c.ssh_config === 'none' ? undefined : relativeTo(dir)(c.ssh_config ?? DEFAULT_SSH_CONFIG);
  let config;
  try {
    config = file ? readSshConfig(file) : undefined;
  } catch (e) {
    issue(`cannot read this ssh config: ${(e as Error).message}`, undefined, file);
  }
  if (file && !config && c.ssh_config !== undefined && !offline) issue(`ssh config ${file} does not exist`, 'give the path to an OpenSSH client config, or `ssh_config: none`');
  let found: SshConfigHost = { identityFiles: [] };
  try {
    if (config) found = sshConfigFor(config, address, name);
  } catch (e) {
    if (!(e instanceof SshConfigError)) throw e;
    issue(`${e.message} (for ${name})`, 'write the jump host in the inventory (connection.jump), or reach the first hop directly', file);
  }
  const known = (found.knownHosts ? relativeTo(dir)(found.knownHosts) : undefined);
  return {
    ...base,
    hostName: found.hostName,
    user: c.user ?? found.user ?? base.user,
    port: c.port ?? found.port ?? base.port,
    identities: base.privateKey ? [] : found.identityFiles.length > 0 ? found.identityFiles : defaultIdentities(),
    knownHosts: c.known_hosts === undefined && known ? known : base.knownHosts,
    hostKeyChecking: c.host_key_checking ?? found.hostKeyChecking ?? base.hostKeyChecking,
    jump: c.jump ?? found.jump?.spec,
    jumpIdentity: c.jump === undefined ? found.jump?.identityFile : undefined,
    sshConfig: config ? file : undefined,
  };
}

function connectionSettings(c: RawConnection, dir: string): ConnectionSettings {
  const rel = relativeTo(dir);
  return {
    user: c.user ?? CONNECTION_DEFAULTS.user,
    port: c.port ?? CONNECTION_DEFAULTS.port,
    privateKey: c.private_key ? rel(c.private_key) : undefined,
    identities: [],
    passphrase: c.private_key_passphrase,
    password: c.password,
    knownHosts: rel(c.known_hosts ?? '~/.ssh/known_hosts'),
    hostKeyChecking: c.host_key_checking ?? CONNECTION_DEFAULTS.hostKeyChecking,
    jump: c.jump,
    become: c.become ?? CONNECTION_DEFAULTS.become,
    becomeUser: c.become_user ?? CONNECTION_DEFAULTS.becomeUser,
    connectTimeoutMs: c.connect_timeout ? c.connect_timeout * 1000 : CONNECTION_DEFAULTS.connectTimeoutMs,
    commandTimeoutMs: c.command_timeout ? c.command_timeout * 1000 : CONNECTION_DEFAULTS.commandTimeoutMs,
    keepaliveIntervalMs: c.keepalive_interval ? c.keepalive_interval * 1000 : CONNECTION_DEFAULTS.keepaliveIntervalMs,
  };
}
