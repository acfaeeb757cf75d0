/** What one audit found: the type every audit output (table, JSON, JUnit, metrics, HTML, history) reads. */
import type { Check, Severity } from '../checks/check.js';
import type { TopologyCluster } from './topology.js';

export interface AuditReport {
  inventory: string;
  generatedAt: string;
  status: Severity;
  checks: Check[];
  /** Each VRRP cluster: VIPs, holder and backups, backends, coloured by state (the HTML report's picture). */
  topology?: TopologyCluster[];
}
