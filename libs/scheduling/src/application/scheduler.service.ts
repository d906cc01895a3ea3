import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import {
  CLOCK,
  JOB_REPOSITORY,
  JOBS_SETTINGS,
  JobsError,
  JobsErrorCode,
  type Clock,
  type Job,
  type JobId,
  type JobRepository,
  type JobsSettings,
} from '@rhythm/jobs';
import { decideDue, type DueDecision } from '../domain/run-decisions';
import type { SchedulingContext } from '../domain/scheduling-context';
import { applyTaskUpdate, type TaskTransition } from '../domain/task-transitions';
import { SCHEDULING_SETTINGS, type SchedulingSettings } from '../scheduling.settings';
import {
  LEADER_ELECTION,
  type LeaderElection,
  type LeadershipTerm,
} from './ports/leader-election.port';
import {
  RUNNER_REGISTRY,
  type Runner,
  type RunnerRegistry,
  type TaskStatusUpdate,
} from './ports/runner.port';
import { SCHEDULER_METRICS, type SchedulerMetrics } from './ports/scheduler-metrics.port';
import { jobIdOfTask, newTaskId } from './task-id';

/**
 * The leader's loop: takes due jobs from the store's due index, decides for each (domain), commits
 * the decision with the term's fencing token, and only then acts (launch, kill). Status updates
 * from the runner are committed the same way. A committed launch is never repeated: if this
 * instance dies before the runner starts it, the next leader's reconciliation closes the run as
 * lost, and the retry policy takes over.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    @Inject(JOB_REPOSITORY) private readonly jobs: JobRepository,
    @Inject(LEADER_ELECTION) private readonly election: LeaderElection,
    @Inject(RUNNER_REGISTRY) private readonly runners: RunnerRegistry,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOBS_SETTINGS) private readonly jobsSettings: JobsSettings,
    @Inject(SCHEDULING_SETTINGS) private readonly settings: SchedulingSettings,
    @Inject(SCHEDULER_METRICS) private readonly metrics: SchedulerMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const runner of this.runners.all()) {
      runner.onUpdate((update) => void this.applyUpdate(update));
    }
    this.election.onTerm((term) => {
      this.loop = this.lead(term);
    });
    await this.election.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.election.stop();
    this.wake?.();
    await this.loop;
  }

  /** Looks at the due index now instead of at the next poll (e.g. after a run-now in this process). */
  poke(): void {
    this.wake?.();
  }

  private async lead(term: LeadershipTerm): Promise<void> {
    this.logger.log({ msg: 'leading', epoch: term.epoch });
    try {
      await this.reconcile(term);
      let nextReconcile = Date.now() + this.settings.reconcileIntervalMs;
      while (!term.signal.aborted) {
        const handled = await this.runDueBatch(term);
        if (Date.now() >= nextReconcile) {
          await this.reconcile(term);
          nextReconcile = Date.now() + this.settings.reconcileIntervalMs;
        }
        if (handled < this.settings.batchSize) await this.sleepUntilDue(term);
      }
    } catch (error) {
      if (!term.signal.aborted) {
        this.logger.error({
          msg: 'scheduler loop failed',
          epoch: term.epoch,
          error: String(error),
        });
      }
    }
    this.logger.log({ msg: 'no longer leading', epoch: term.epoch });
  }

  /**
   * Learns from the runner what became of the runs in flight: before a term launches anything, and
   * periodically, so that an update lost to a store outage is delivered again.
   */
  private async reconcile(term: LeadershipTerm): Promise<void> {
    for (;;) {
      try {
        const byRunner = new Map<string, string[]>(
          this.runners.all().map((runner) => [runner.kind, []]),
        );
        for (const job of await this.jobs.listInFlight()) {
          const run = job.runtime.run;
          if (!run) continue;
          const tasks = byRunner.get(run.runner);
          if (tasks) tasks.push(run.taskId);
          else await this.closeOrphan(run.taskId, run.runner);
        }
        await Promise.all(
          [...byRunner].map(async ([kind, taskIds]) => {
            if (taskIds.length > 0) {
              this.logger.debug({
                msg: 'reconciling runs in flight',
                runner: kind,
                count: taskIds.length,
              });
            }
            await this.runners.get(kind)?.reconcile(taskIds);
          }),
        );
        return;
      } catch (error) {
        this.logger.warn({ msg: 'reconciliation failed; retrying', error: String(error) });
        await this.pause(term, this.settings.pollIntervalMs, false);
        if (term.signal.aborted) return;
      }
    }
  }

  private async runDueBatch(term: LeadershipTerm): Promise<number> {
    let due: JobId[];
    try {
      due = await this.jobs.listDue(this.clock.now(), this.settings.batchSize);
    } catch (error) {
      this.logger.warn({ msg: 'cannot read due jobs', error: String(error) });
      return 0;
    }
    await forEachConcurrently(due, this.settings.concurrency, (jobId) =>
      this.handleDue(jobId, term),
    );
    return due.length;
  }

  private async handleDue(jobId: JobId, term: LeadershipTerm): Promise<void> {
    if (term.signal.aborted) return;
    let decision: DueDecision | null = null;
    let job: Job;
    try {
      job = await this.jobs.update(
        jobId,
        (current) => {
          decision = decideDue(current, this.context(this.clock.now(), current));
          return decision && { job: decision.job, history: decision.history };
        },
        { epoch: term.epoch },
      );
    } catch (error) {
      this.reportCommitFailure(jobId, error);
      return;
    }
    const made = decision as DueDecision | null;
    if (!made) return;
    for (const skip of made.skipped) this.metrics.missed(skip.reason, 1);
    if (made.kill) {
      await this.runnerOf(job.runtime.run?.runner ?? '')
        ?.kill(made.kill.taskId)
        .catch((error: unknown) => this.logger.warn({ msg: 'kill failed', error: String(error) }));
    }
    if (made.launch) await this.launch(job, made.launch.run.taskId);
  }

  private async launch(job: Job, taskId: string): Promise<void> {
    const run = job.runtime.run;
    if (!run || run.taskId !== taskId) return;
    this.metrics.launched(
      Math.max(0, (run.launchedAt.getTime() - run.scheduledAt.getTime()) / 1000),
    );
    try {
      const runner = this.runnerOf(run.runner);
      if (!runner) throw new Error(`this server has no runner "${run.runner}"`);
      await runner.launch({
        taskId,
        jobId: job.jobId,
        spec: job,
        scheduledAt: run.scheduledAt,
        attempt: run.attempt,
        options: job.runner?.options ?? {},
      });
    } catch (error) {
      await this.applyUpdate({
        taskId,
        state: 'Failed',
        at: this.clock.now(),
        message: `Launch failed: ${error instanceof Error ? error.message : String(error)}`,
        reason: 'LAUNCH_FAILED',
        source: 'SCHEDULER',
      });
    }
  }

  /**
   * Commits a runner's status update, retrying while the store is unreachable and this term
   * lasts. Updates reaching a follower are left to the leader's reconciliation.
   */
  private async applyUpdate(update: TaskStatusUpdate): Promise<void> {
    const term = this.election.currentTerm();
    const jobId = jobIdOfTask(update.taskId);
    if (!term || !jobId) {
      this.logger.debug({
        msg: 'status update not applied',
        taskId: update.taskId,
        leader: term !== null,
      });
      return;
    }
    let transition: TaskTransition | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.jobs.update(
          jobId,
          (current) => {
            transition = applyTaskUpdate(current, update, this.clock.now());
            return transition && { job: transition.job, history: transition.history };
          },
          { epoch: term.epoch },
        );
        break;
      } catch (error) {
        const unavailable =
          error instanceof JobsError && error.code === JobsErrorCode.STORE_UNAVAILABLE;
        if (!unavailable || term.signal.aborted) {
          this.reportCommitFailure(jobId, error);
          return;
        }
        await this.pause(term, Math.min(100 * 2 ** attempt, 2_000), false);
      }
    }
    const applied = transition as TaskTransition | null;
    if (applied?.outcome) {
      this.metrics.ended(applied.outcome);
      this.poke(); // the job may have queued runs waiting for this one to end
    }
  }

  private reportCommitFailure(jobId: JobId, error: unknown): void {
    if (error instanceof JobsError && error.code === JobsErrorCode.JOB_NOT_FOUND) return; // deleted meanwhile
    const stale = error instanceof JobsError && error.code === JobsErrorCode.STALE_FENCE;
    this.logger.warn({
      msg: stale ? 'write refused: leadership moved on' : 'cannot commit',
      job: jobId,
      error: String(error),
    });
  }

  private context(now: Date, job: Job): SchedulingContext {
    return {
      now,
      defaultTimezone: this.jobsSettings.defaultTimezone,
      runner: job.runner?.kind ?? this.runners.commandRunner().kind,
      newTaskId,
    };
  }

  private runnerOf(kind: string): Runner | undefined {
    return this.runners.get(kind);
  }

  /** A run whose runner this server does not have (configuration changed) can only be lost. */
  private async closeOrphan(taskId: string, runner: string): Promise<void> {
    await this.applyUpdate({
      taskId,
      state: 'Lost',
      at: this.clock.now(),
      message: `this server has no runner "${runner}" to ask about the run`,
      reason: 'RUNNER_UNAVAILABLE',
      source: 'SCHEDULER',
    });
  }

  private async sleepUntilDue(term: LeadershipTerm): Promise<void> {
    let wait = this.settings.pollIntervalMs;
    try {
      const next = await this.jobs.nextDueAt();
      if (next) wait = Math.min(wait, Math.max(0, next.getTime() - this.clock.now().getTime()));
    } catch {
      // The store is unreachable: wait a full poll before trying again.
    }
    await this.pause(term, wait);
  }

  /** Waits `ms` or until the term ends; the main loop's wait can also be cut short by poke(). */
  private pause(term: LeadershipTerm, ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        term.signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      term.signal.addEventListener('abort', done);
      if (wakeable) this.wake = done;
    });
  }
}

async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(workers);
}
