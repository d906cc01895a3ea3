import { Inject, Injectable } from '@nestjs/common';
import { CronExpression, InvalidCronExpressionError } from '@rhythm/scheduling';
import type { Job, JobPatch, JobSpec } from '../domain/job';
import { applyJobPatch, newJob } from '../domain/job';
import type { JobFilter, JobId } from '../domain/job-id';
import { JobsError } from '../domain/jobs.errors';
import type { TaskRecord } from '../domain/task-record';
import { JOB_REPOSITORY, type JobRepository } from './ports/job-repository.port';
import { TASK_HISTORY, type TaskHistoryRepository } from './ports/task-history.port';

/** The use cases of the jobs API; transports validate shapes, this enforces the domain rules. */
@Injectable()
export class JobsService {
  constructor(
    @Inject(JOB_REPOSITORY) private readonly jobs: JobRepository,
    @Inject(TASK_HISTORY) private readonly history: TaskHistoryRepository,
  ) {}

  async create(jobId: JobId, spec: JobSpec): Promise<void> {
    assertCron(spec.schedule.cron);
    await this.jobs.create(newJob(jobId, spec));
  }

  async get(jobId: JobId): Promise<Job> {
    const job = await this.jobs.get(jobId);
    if (!job) throw JobsError.notFound();
    return job;
  }

  list(filter: JobFilter): Promise<Job[]> {
    return this.jobs.list(filter);
  }

  async update(jobId: JobId, patch: JobPatch): Promise<Job> {
    if (patch.schedule) assertCron(patch.schedule.cron);
    return this.jobs.updateSpec(jobId, (job) => applyJobPatch(job, patch));
  }

  async delete(jobId: JobId): Promise<void> {
    if (!(await this.jobs.delete(jobId))) throw JobsError.notFound();
  }

  /** Queues a run now; a job that is queued already stays queued once. */
  async requestRun(jobId: JobId, now = new Date()): Promise<void> {
    await this.jobs.enqueueRun(jobId, now);
  }

  async listTasks(jobId: JobId): Promise<TaskRecord[]> {
    await this.get(jobId);
    return this.history.list(jobId);
  }
}

function assertCron(cron: string): void {
  try {
    CronExpression.parse(cron);
  } catch (error) {
    if (error instanceof InvalidCronExpressionError) throw JobsError.invalid([error.message]);
    throw error;
  }
}
