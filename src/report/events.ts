/** Everything a run reports, as one union type: renderers (plain, listr2, JSON lines) consume these. */
import type { Check } from './check.js';

export type StepStatus = 'ok' | 'changed' | 'failed' | 'skipped';

export interface HostRecap {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: boolean;
  ms: number;
}

/** Milliseconds per phase (connect, authenticate, lock, facts, apply, handlers, wait). */
export type PhaseTimes = Partial<Record<'connect' | 'authenticate' | 'lock' | 'facts' | 'apply' | 'handlers' | 'wait', number>>;

export type RunEvent =
  | { type: 'run-start'; playbooks: string[]; hosts: string[]; check: boolean }
  /** Where the run's time went, per host and in total (the phases overlap across hosts: hosts run in parallel). */
  | { type: 'timings'; hosts: Record<string, PhaseTimes>; totals: PhaseTimes; ms: number }
  | { type: 'play-start'; playbook: string; play: string; hosts: string[] }
  | { type: 'note'; playbook: string; text: string }
  | { type: 'host-unreachable'; host: string; message: string; hint?: string }
  /** Another run holds the host's run lock: this one waits (at most waitS) before touching it. */
  | { type: 'lock-wait'; host: string; holder: string; waitS: number }
  | { type: 'step'; host: string; play: string; step: string; status: StepStatus; message?: string; hint?: string; diff?: string; ms: number; handler?: boolean }
  | { type: 'host-done'; host: string; recap: HostRecap }
  | { type: 'interrupted'; message: string }
  | { type: 'recap'; hosts: Record<string, HostRecap>; ms: number; connections: number; commands: Record<string, number>; peakOpen?: number }
  /** After converging, `up` waits until the deployments serve: what it waits for, then how it ended. */
  | { type: 'preflight'; deployment: string; ok: boolean; ms: number; skipped?: string; issues: { host: string; where?: string; message: string; hint: string }[] }
  | { type: 'wait-start'; deployments: string[]; timeoutS: number }
  /** `commands`: the remote commands the wait ran, by host (the client's requests through the VIPs included). */
  | { type: 'wait-done'; ready: boolean; ms: number; rounds: number; checks: number; failing: Check[]; commands?: Record<string, number>; connections?: number; peakOpen?: number }
  /** `up --serial`: a batch of clusters, backups first and the VIP holders after them, then its health gate. */
  | { type: 'batch-start'; index: number; of: number; clusters: string[]; backups: string[]; holders: string[] }
  | { type: 'batch-done'; index: number; of: number; clusters: string[]; backups: string[]; holders: string[]; ok: boolean; ms: number; gateMs: number; problem?: string }
  | { type: 'rollout-stopped'; after: number; of: number; reason: string; resume: string }
  | { type: 'rollout-done'; batches: { index: number; ok: boolean; ms: number; gateMs: number }[]; ms: number; stopped: boolean };

export interface Reporter {
  emit(event: RunEvent): void;
  /** Flush and stop (listr2 waits for its tasks). */
  close(): Promise<void>;
}
