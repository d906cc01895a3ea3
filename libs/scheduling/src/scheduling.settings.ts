export const SCHEDULING_SETTINGS = Symbol('SCHEDULING_SETTINGS');

export interface SchedulingSettings {
  /** Longest sleep between looks at the due index; bounds the delay of jobs another instance adds. */
  readonly pollIntervalMs: number;
  /** Due jobs handled per look, and how many at once. */
  readonly batchSize: number;
  readonly concurrency: number;
}

export const DEFAULT_SCHEDULING_SETTINGS: SchedulingSettings = {
  pollIntervalMs: 500,
  batchSize: 500,
  concurrency: 32,
};
