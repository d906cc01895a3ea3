import type { JobId } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';

export const TASK_HISTORY = Symbol('TASK_HISTORY');

/** How long and how many task records are kept per job; older ones are dropped on append. */
export interface HistoryRetention {
  readonly maxAgeMs: number;
  readonly maxPerJob: number;
}

export const DEFAULT_HISTORY_RETENTION: HistoryRetention = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxPerJob: 1000,
};

export interface TaskPage {
  /** Records to skip, counted from the oldest. */
  readonly offset: number;
  readonly limit: number;
}

/**
 * Finished runs of each job, written with the job change that closes them (JobRepository.update)
 * and removed with the job.
 */
export interface TaskHistoryRepository {
  /** Oldest first (by end time); all of them, or one page. */
  list(jobId: JobId, page?: TaskPage): Promise<TaskRecord[]>;

  count(jobId: JobId): Promise<number>;
}
