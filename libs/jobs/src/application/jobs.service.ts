import { Inject, Injectable } from '@nestjs/common';
import {
  CronExpression,
  InvalidCronExpressionError,
  isValidTimezone,
} from '../domain/cron-expression';
import type { Job, JobPatch, JobSpec, Occurrence, RunTrigger } from '../domain/job';
import {
  applyJobPatch,
  nextFireAfter,
  newJob,
  rescheduleIfChanged,
  timezoneOf,
  upcomingFireTimes,
} from '../domain/job';
import type { JobFilter, JobId } from '../domain/job-id';
import { JobsError } from '../domain/jobs.errors';
import type { TaskRecord } from '../domain/task-record';
import { JOBS_SETTINGS, type JobsSettings } from '../jobs.settings';
import { CLOCK, type Clock } from './ports/clock.port';
import { JOB_REPOSITORY, type JobRepository } from './ports/job-repository.port';
import { TASK_HISTORY, type TaskHistoryRepository, type TaskPage } from './ports/task-history.port';

/** A run waiting to start: queued, retrying, or a cron occurrence that is due. */
export interface PendingRun {
  readonly jobId: JobId;
  readonly trigger: RunTrigger;
  readonly scheduledAt: Date;
  /** When it may start; it starts once the job's current run (if any) has ended. */
  readonly dueAt: Date;
  readonly attempt: number;
}

/** The use cases of the jobs API; transports validate shapes, this enforces the domain rules. */
@Injectable()
export class JobsService {
  constructor(
    @Inject(JOB_REPOSITORY) private readonly jobs: JobRepository,
    @Inject(TASK_HISTORY) private readonly history: TaskHistoryRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOBS_SETTINGS) private readonly settings: JobsSettings,
  ) {}

  async create(jobId: JobId, spec: JobSpec): Promise<void> {
    this.assertSchedule(spec.schedule.cron, timezoneOf(spec, this.settings.defaultTimezone));
    await this.jobs.create(newJob(jobId, spec, this.clock.now(), this.settings.defaultTimezone));
  }

  async get(jobId: JobId): Promise<Job> {
    const job = await this.jobs.get(jobId);
    if (!job) throw JobsError.notFound();
    return job;
  }

  /** The job's next cron occurrences after `after` (now by default), in its time zone. */
  async upcoming(
    jobId: JobId,
    count: number,
    after?: Date,
  ): Promise<{ readonly job: Job; readonly timezone: string; readonly times: Date[] }> {
    const job = await this.get(jobId);
    const { defaultTimezone } = this.settings;
    const times = upcomingFireTimes(job, after ?? this.clock.now(), count, defaultTimezone);
    return { job, timezone: timezoneOf(job, defaultTimezone), times };
  }

  list(filter: JobFilter): Promise<Job[]> {
    return this.jobs.list(filter);
  }

  async update(jobId: JobId, patch: JobPatch): Promise<Job> {
    if (patch.schedule?.timezone !== undefined) {
      this.assertSchedule(patch.schedule.cron, patch.schedule.timezone);
    }
    return this.jobs.update(jobId, (job) => {
      const patched = applyJobPatch(job, patch);
      if (patch.schedule) {
        this.assertSchedule(
          patched.schedule.cron,
          timezoneOf(patched, this.settings.defaultTimezone),
        );
      }
      return {
        job: rescheduleIfChanged(job, patched, this.clock.now(), this.settings.defaultTimezone),
      };
    });
  }

  async delete(jobId: JobId): Promise<void> {
    if (!(await this.jobs.delete(jobId))) throw JobsError.notFound();
  }

  /**
   * Queues a run now. A job queued already stays queued once; a running job runs the queued run
   * after the current one ends. A paused job refuses.
   */
  async requestRun(jobId: JobId): Promise<void> {
    await this.jobs.update(jobId, (job) => {
      if (job.runtime.paused) throw JobsError.paused();
      if (job.runtime.queue.some((occurrence) => occurrence.trigger === 'manual')) return null;
      const manual: Occurrence = { scheduledAt: this.clock.now(), trigger: 'manual' };
      return {
        job: { ...job, runtime: { ...job.runtime, queue: [...job.runtime.queue, manual] } },
      };
    });
  }

  /**
   * Asks for the job's current run to be killed. Any instance may take the request: it is stored,
   * and the leader kills the task at its next look at the job (at once when it is this instance).
   * Killing a run already being killed changes nothing.
   */
  async requestKill(jobId: JobId, taskId: string): Promise<void> {
    await this.jobs.update(jobId, (job) => {
      const run = job.runtime.run;
      if (!run || run.taskId !== taskId) throw JobsError.taskNotRunning();
      if (run.killReason !== null || run.killRequestedAt) return null;
      return {
        job: {
          ...job,
          runtime: { ...job.runtime, run: { ...run, killRequestedAt: this.clock.now() } },
        },
      };
    });
  }

  /** Stops the job from starting runs (a run in flight continues), until resumed or `until`. */
  async pause(jobId: JobId, until: Date | null): Promise<Job> {
    const now = this.clock.now();
    if (until && until <= now) throw JobsError.invalid(['Until: Must be in the future']);
    return this.jobs.update(jobId, (job) => ({
      job: {
        ...job,
        runtime: { ...job.runtime, paused: { since: job.runtime.paused?.since ?? now, until } },
      },
    }));
  }

  /** Ends a pause. Occurrences that fell in the pause are not run; queued runs are kept. */
  async resume(jobId: JobId): Promise<Job> {
    const now = this.clock.now();
    return this.jobs.update(jobId, (job) => {
      if (!job.runtime.paused) return null;
      const nextFireAt = nextFireAfter(job, now, this.settings.defaultTimezone);
      // A job that paused itself after failures starts counting them again.
      const runtime = { ...job.runtime, paused: null, nextFireAt, consecutiveFailures: 0 };
      return { job: { ...job, runtime } };
    });
  }

  /**
   * A job's task records, oldest first: all of them, a page from `offset`, or with `limit` alone
   * the most recent `limit` records.
   */
  async listTasks(
    jobId: JobId,
    limit?: number,
    offset?: number,
  ): Promise<{ tasks: TaskRecord[]; total: number }> {
    await this.get(jobId);
    const total = await this.history.count(jobId);
    if (limit === undefined && offset === undefined) {
      return { tasks: await this.history.list(jobId), total };
    }
    const page: TaskPage = {
      offset: offset ?? Math.max(0, total - (limit ?? total)),
      limit: limit ?? Math.max(0, total - (offset ?? 0)),
    };
    return { tasks: page.limit === 0 ? [] : await this.history.list(jobId, page), total };
  }

  /** Every run waiting to start, soonest first. */
  async pendingRuns(): Promise<PendingRun[]> {
    const now = this.clock.now();
    const pending: PendingRun[] = [];
    for (const job of await this.jobs.list({})) {
      const { runtime, jobId } = job;
      if (runtime.paused) continue;
      const ready = runtime.run ? null : now;
      for (const occurrence of runtime.queue) {
        pending.push({ jobId, ...occurrence, dueAt: ready ?? occurrence.scheduledAt, attempt: 1 });
      }
      if (runtime.retry) pending.push({ jobId, ...runtime.retry, trigger: 'retry' });
      if (runtime.nextFireAt && runtime.nextFireAt <= now) {
        pending.push({
          jobId,
          trigger: 'cron',
          scheduledAt: runtime.nextFireAt,
          dueAt: runtime.nextFireAt,
          attempt: 1,
        });
      }
    }
    return pending.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
  }

  private assertSchedule(cron: string, timezone: string): void {
    if (!isValidTimezone(timezone)) {
      throw JobsError.invalid([`Schedule.Timezone: Unknown time zone '${timezone}'`]);
    }
    try {
      CronExpression.parse(cron, timezone);
    } catch (error) {
      if (error instanceof InvalidCronExpressionError) throw JobsError.invalid([error.message]);
      throw error;
    }
  }
}
