import type { JobRepository, QueuedRun } from '../../application/ports/job-repository.port';
import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import { jobKey, jobKeyPrefix } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import type { EmbeddedStore } from './embedded-store';

/** Jobs in the embedded store; atomicity comes from the store applying each change synchronously. */
export class EmbeddedJobRepository implements JobRepository {
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

  async updateSpec(jobId: JobId, change: (job: Job) => Job): Promise<Job> {
    const updated = await this.store.updateJobSpec(jobKey(jobId), change);
    if (updated === null) throw JobsError.notFound();
    return updated;
  }

  async delete(jobId: JobId): Promise<boolean> {
    return this.store.deleteJob(jobKey(jobId));
  }

  async enqueueRun(jobId: JobId, requestedAt: Date): Promise<boolean> {
    const result = await this.store.enqueueRun(jobKey(jobId), requestedAt);
    if (result === 'no-job') throw JobsError.notFound();
    return result === 'queued';
  }

  async listQueuedRuns(): Promise<QueuedRun[]> {
    return this.store.listQueuedRuns();
  }
}
