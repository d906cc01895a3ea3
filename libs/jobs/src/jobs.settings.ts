import type { HistoryRetention } from './application/ports/task-history.port';
import type { JobStoreOptions } from './infrastructure/job-store';

export const JOBS_SETTINGS = Symbol('JOBS_SETTINGS');

export interface JobsSettings {
  readonly store: JobStoreOptions;
  /** IANA zone for crons of jobs that name none. */
  readonly defaultTimezone: string;
  readonly retention: HistoryRetention;
}
