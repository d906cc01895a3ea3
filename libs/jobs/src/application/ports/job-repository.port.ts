import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import type { JobsError } from '../../domain/jobs.errors';
import type { TaskRecord } from '../../domain/task-record';

export const JOB_REPOSITORY = Symbol('JOB_REPOSITORY');

/** A change to one job: its new state, and the task records the change closes (if any). */
export interface JobChange {
  readonly job: Job;
  readonly history?: readonly TaskRecord[];
}

/** One job's part of a batch: the same change function `update` takes. */
export interface JobBatchChange {
  readonly jobId: JobId;
  readonly change: (job: Job) => JobChange | null;
}

/** What became of one change of a batch. */
export type JobBatchResult =
  /** Written; `job` is as stored afterwards. */
  | { readonly status: 'updated'; readonly job: Job }
  /** The change returned null for `job`, as stored; nothing was written. */
  | { readonly status: 'unchanged'; readonly job: Job }
  | { readonly status: 'not-found' }
  /**
   * Not written because the store failed (STORE_UNAVAILABLE, STALE_FENCE) after other changes of
   * the batch were: retrying it alone is safe.
   */
  | { readonly status: 'failed'; readonly error: JobsError };

/**
 * A leadership term's fencing token: a write carrying it is refused (JobsError STALE_FENCE) once a
 * newer term exists, so a deposed leader can never launch or record anything.
 */
export interface Fence {
  readonly epoch: number;
}

/** A run that was in flight when its job was deleted: nothing records its end, so it is stopped. */
export interface OrphanedRun {
  readonly taskId: string;
  /** The runner kind that runs it. */
  readonly runner: string;
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

  /**
   * Applies many jobs' changes as `update` applies one (each atomic, compare-and-set on its
   * revision, re-read and re-applied on a concurrent change), in a few round trips and with one
   * fence check per write instead of one per job. A job may appear more than once; its changes
   * apply in order. Resolves to one result per change, in the order given.
   *
   * Rejects (STALE_FENCE, STORE_UNAVAILABLE) only when nothing was written; a failure after part
   * of the batch was written is reported per change as `failed`, so that the caller still acts on
   * the changes that were committed (a claimed launch must not be forgotten).
   */
  updateMany(changes: readonly JobBatchChange[], fence?: Fence): Promise<JobBatchResult[]>;

  /**
   * Removes the job together with its task history; false when absent. A run the job had in
   * flight becomes an orphaned run in the same change, for the leader to stop.
   */
  delete(jobId: JobId): Promise<boolean>;

  /** Runs in flight of deleted jobs that the leader has not stopped yet, oldest first. */
  listOrphanedRuns(): Promise<OrphanedRun[]>;

  /** Drops orphaned runs whose kill was sent (or whose runner is gone). */
  forgetOrphanedRuns(taskIds: readonly string[]): Promise<void>;

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
