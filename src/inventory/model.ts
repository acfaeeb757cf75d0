/** The resolved inventory: every host with its groups, merged vars and connection settings. */
import type { Masker, Secret } from './secret.js';
import type { YamlSource } from './source.js';

/** How a host's SSH key is checked against known_hosts (connection/ssh.ts applies it). */
export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface ConnectionSettings {
  user: string;
  port: number;
  privateKey?: string;
  password?: Secret;
  knownHosts: string;
  hostKeyChecking: HostKeyPolicy;
  /** Inventory host name or user@address[:port]. */
  jump?: string;
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
