/** The resolved inventory: every host with its groups, merged vars and connection settings. */
import type { Masker, Secret } from './secret.js';
import type { YamlSource } from './source.js';

/** How a host's SSH key is checked against known_hosts (connection/ssh.ts applies it). */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface ConnectionSettings {
  user: string;
  port: number;
  /** The address to dial, when the operator's ssh config renames the host (HostName); else `address`. */
  hostName?: string;
  /** The inventory's own key: the only one offered (besides the password). */
  privateKey?: string;
  /** Without one: the ssh config's IdentityFile entries, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa; tried after ssh-agent. */
  identities: string[];
  /** The passphrase of encrypted keys, from an environment variable; else asked on a terminal. */
  passphrase?: Secret;
  password?: Secret;
  knownHosts: string;
  hostKeyChecking: HostKeyPolicy;
  /** Inventory host name or user@address[:port]. */
  jump?: string;
  /** The jump host's key, when the ssh config's ProxyJump names a host with its own IdentityFile. */
  jumpIdentity?: string;
  /** The ssh config file read for this host, if any (for messages). */
  sshConfig?: string;
  become: boolean;
  becomeUser: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  keepaliveIntervalMs: number;
}

export interface Host {
  name: string;
  address: string;
  /** Groups in the order they appear in the file. */
  groups: string[];
  vars: Record<string, unknown>;
  /** The YAML path of each var's winning value, to point errors at file:line:col. */
  varPaths: Record<string, (string | number)[]>;
  connection: ConnectionSettings;
  /** Where the host is defined. */
  where: string;
}

export interface Inventory {
  file: string;
  dir: string;
  source: YamlSource;
  playbooks: string[];
  /** Where `playbook:` is written, if it is. */
  playbookWhere?: string;
  hosts: Host[];
  /** group -> member host names, in file order. */
  groups: Map<string, string[]>;
  masker: Masker;
}

export const CONNECTION_DEFAULTS = {
  user: 'root',
  port: 22,
  hostKeyChecking: 'accept-new' as HostKeyPolicy,
  become: false,
  becomeUser: 'root',
  connectTimeoutMs: 10_000,
  commandTimeoutMs: 600_000,
  keepaliveIntervalMs: 5_000,
};
