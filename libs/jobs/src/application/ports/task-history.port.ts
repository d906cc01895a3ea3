import type { JobId } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';

export const TASK_HISTORY = Symbol('TASK_HISTORY');

/** Finished runs of each job. A job's history is removed with the job (see JobRepository.delete). */
export interface TaskHistoryRepository {
  append(jobId: JobId, task: TaskRecord): Promise<void>;

  /** Oldest first (by end time). */
  list(jobId: JobId): Promise<TaskRecord[]>;
}
