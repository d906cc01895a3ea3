import type {
  Fence,
  JobBatchChange,
  JobBatchResult,
  JobChange,
  JobRepository,
  OrphanedRun,
} from '../../application/ports/job-repository.port';
import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import { jobKey, jobKeyPrefix } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import type { EmbeddedStore } from './embedded-store';

/** Jobs in the embedded store; atomicity comes from the store applying each change synchronously. */
export class EmbeddedJobRepository implements JobRepository {
  /** Task id → runner of runs in flight of deleted jobs (see `delete`), in deletion order. */
  private readonly orphans = new Map<string, string>();

  constructor(private readonly store: EmbeddedStore) {}

  async create(job: Job): Promise<void> {
    if (!(await this.store.createJob(job))) throw JobsError.alreadyExists();
  }

  async get(jobId: JobId): Promise<Job | null> {
    return this.store.getJob(jobKey(jobId));
  }

  async list(filter: JobFilter): Promise<Job[]> {
    return this.store.listJobs(jobKeyPrefix(filter));
  }

  /**
   * The fence is ignored: the directory lock lets only one process open the store, and that
   * process is the only possible leader (embedded mode runs as a sole instance), so no write can
   * come from an older leadership term.
   */
  async update(jobId: JobId, change: (job: Job) => JobChange | null, _fence?: Fence): Promise<Job> {
    const updated = await this.store.updateJob(jobKey(jobId), change);
    if (updated === null) throw JobsError.notFound();
    return updated;
  }

  /**
   * Each change is applied to memory at once, one after the other, and all of them share one
   * journal write and fsync (the store's group commit), so a batch costs one disk round trip. They
   * become durable together or fail together, hence rejecting the whole batch on a failure. The
   * fence is ignored, as in `update`.
   */
  async updateMany(changes: readonly JobBatchChange[], _fence?: Fence): Promise<JobBatchResult[]> {
    const settled = await Promise.allSettled(
      changes.map(async ({ jobId, change }): Promise<JobBatchResult> => {
        let changed = false;
        const stored = await this.store.updateJob(jobKey(jobId), (job) => {
          const proposed = change(job);
          changed = proposed !== null;
          return proposed;
        });
        if (stored === null) return { status: 'not-found' };
        return { status: changed ? 'updated' : 'unchanged', job: stored };
      }),
    );
    return settled.map((outcome) => {
      if (outcome.status === 'rejected') throw outcome.reason;
      return outcome.value;
    });
  }

  /**
   * The orphaned run is kept in memory only: the one process that opens the store is the leader,
   * and a run it started is gone with it (local runner) or, on Mesos, killed by the reconciliation
   * after a restart as a task the store does not know.
   */
  async delete(jobId: JobId): Promise<boolean> {
    const key = jobKey(jobId);
    const run = this.store.getJob(key)?.runtime.run;
    const deleted = await this.store.deleteJob(key);
    if (deleted && run) this.orphans.set(run.taskId, run.runner);
    return deleted;
  }

  async listOrphanedRuns(): Promise<OrphanedRun[]> {
    return [...this.orphans].map(([taskId, runner]) => ({ taskId, runner }));
  }

  async forgetOrphanedRuns(taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) this.orphans.delete(taskId);
  }

  async listDue(now: Date, limit: number): Promise<JobId[]> {
    return this.store.listDue(now, limit);
  }

  async nextDueAt(): Promise<Date | null> {
    return this.store.nextDueAt();
  }

  async listInFlight(): Promise<Job[]> {
    return this.store.listInFlight();
  }
}
