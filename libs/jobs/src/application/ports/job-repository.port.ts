import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';

export const JOB_REPOSITORY = Symbol('JOB_REPOSITORY');

/** A change to one job: its new state, and the task records the change closes (if any). */
export interface JobChange {
  readonly job: Job;
  readonly history?: readonly TaskRecord[];
}

/**
 * A leadership term's fencing token: a write carrying it is refused (JobsError STALE_FENCE) once a
 * newer term exists, so a deposed leader can never launch or record anything.
 */
export interface Fence {
  readonly epoch: number;
}

/**
 * Where jobs live. Every method is atomic on its own: no caller ever observes half of a change,
 * and two concurrent callers never both succeed at creating the same job or changing the same
 * revision. Adapters throw `JobsError` STORE_UNAVAILABLE when the backing store cannot be reached.
 */
export interface JobRepository {
  /** Stores a new job with its runtime; throws JOB_ALREADY_EXISTS when the id is taken. */
  create(job: Job): Promise<void>;

  get(jobId: JobId): Promise<Job | null>;

  /** Jobs matching the filter, ordered by group, project and id. */
  list(filter: JobFilter): Promise<Job[]>;

  /**
   * Replaces the job with `change(job)` and appends the change's task records, all at once, if the
   * job's revision is still the one `change` saw; on a concurrent change it re-reads and calls
   * `change` again. `change` returning null changes nothing. The stored revision is advanced by the
   * repository. Throws JOB_NOT_FOUND, and STALE_FENCE for a fenced write from an old term.
   * Resolves to the job as stored afterwards.
   */
  update(jobId: JobId, change: (job: Job) => JobChange | null, fence?: Fence): Promise<Job>;

  /** Removes the job together with its task history; false when absent. */
  delete(jobId: JobId): Promise<boolean>;

  /**
   * Jobs whose `dueAt` is at or before `now`, soonest first, at most `limit`. The index is kept
   * by every write, so this costs no scan of all jobs.
   */
  listDue(now: Date, limit: number): Promise<JobId[]>;

  /** The earliest `dueAt` of any job, or null when nothing is due ever. */
  nextDueAt(): Promise<Date | null>;

  /** Jobs with a run in flight (`runtime.run` set), from an index: no scan of all jobs. */
  listInFlight(): Promise<Job[]>;
}
