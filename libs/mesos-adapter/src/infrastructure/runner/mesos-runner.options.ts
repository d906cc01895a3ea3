import type { MesosCredentials } from '../http/mesos-http';
import type { ReconnectBackoffOptions } from '../scheduler/reconnect-backoff';
import type { FrameworkInfo } from '../wire/mesos-messages';

export const MESOS_RUNNER_OPTIONS = Symbol('MESOS_RUNNER_OPTIONS');

/** How Rhythm talks to a Mesos cluster (the original config file's `mesos` section). */
export interface MesosRunnerOptions {
  /** Master base URLs, e.g. `http://10.0.0.1:5050`; redirects lead to the leading one. */
  readonly masters: string[];
  /** Sent on every SUBSCRIBE; the framework ID comes from the store. */
  readonly framework: Omit<FrameworkInfo, 'id'>;
  readonly credentials?: MesosCredentials;
  /** PEM of the CA that signed the masters' and agents' certificates. */
  readonly ca?: Buffer;
  readonly reconnect?: ReconnectBackoffOptions;
  readonly heartbeatTimeoutFactor?: number;
  /** Refuse filter of a declined offer while runs wait for a better fit (seconds). */
  readonly declineRefuseSeconds: number;
  /** Refuse filter of a declined offer while nothing waits (offers are suppressed then too). */
  readonly idleRefuseSeconds: number;
  /** How often Mesos is asked for every task it has for us (implicit reconciliation). */
  readonly implicitReconcileIntervalMs: number;
}

export const DEFAULT_MESOS_TUNING = {
  declineRefuseSeconds: 5,
  idleRefuseSeconds: 3600,
  implicitReconcileIntervalMs: 5 * 60_000,
} as const;
