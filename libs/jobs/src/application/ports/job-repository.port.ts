import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';

export const JOB_REPOSITORY = Symbol('JOB_REPOSITORY');

/**
 * Where jobs live. Every method is atomic on its own: no caller ever observes half of a change,
 * and two concurrent callers never both succeed at creating the same job.
 * Adapters throw `JobsError` with code STORE_UNAVAILABLE when the backing store cannot be reached.
 */
export interface JobRepository {
  /** Stores a new job with its runtime; throws JOB_ALREADY_EXISTS when the id is taken. */
  create(job: Job): Promise<void>;

  get(jobId: JobId): Promise<Job | null>;

  /** Jobs matching the filter, ordered by group, project and id. */
  list(filter: JobFilter): Promise<Job[]>;

  /**
   * Replaces the job's spec with `change(job)`; the runtime is never touched. Safe against
   * concurrent edits (the change is re-applied on a fresh read). Throws JOB_NOT_FOUND.
   */
  updateSpec(jobId: JobId, change: (job: Job) => Job): Promise<Job>;

  /** Removes the job together with its task history and any queued run; false when absent. */
  delete(jobId: JobId): Promise<boolean>;

  /** Queues a run-now request; false when one is queued already. Throws JOB_NOT_FOUND. */
  enqueueRun(jobId: JobId, requestedAt: Date): Promise<boolean>;

  /** Queued run-now requests, oldest first. */
  listQueuedRuns(): Promise<QueuedRun[]>;
}

export interface QueuedRun {
  readonly jobId: JobId;
  readonly requestedAt: Date;
}
