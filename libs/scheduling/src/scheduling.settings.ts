export const SCHEDULING_SETTINGS = Symbol('SCHEDULING_SETTINGS');

export interface SchedulingSettings {
  /** Longest sleep between looks at the due index; bounds the delay of jobs another instance adds. */
  readonly pollIntervalMs: number;
  /** Due jobs handled per look, and how many at once. */
  readonly batchSize: number;
  readonly concurrency: number;
  /** How often the leader asks the runner about runs in flight, to catch updates it missed. */
  readonly reconcileIntervalMs: number;
}

export const DEFAULT_SCHEDULING_SETTINGS: SchedulingSettings = {
  pollIntervalMs: 500,
  batchSize: 2_000,
  concurrency: 32,
  reconcileIntervalMs: 30_000,
};
