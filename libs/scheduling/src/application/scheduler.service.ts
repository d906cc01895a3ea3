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
  jobKey,
  type Clock,
  type Job,
  type JobBatchResult,
  type JobId,
  type JobRepository,
  type OrphanedRun,
  type JobsSettings,
} from '@rhythm/jobs';
import { decideDue, type DueDecision } from '../domain/run-decisions';
import type { SchedulingContext } from '../domain/scheduling-context';
import { applyTaskUpdates, type TaskTransitions } from '../domain/task-transitions';
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
 * Status updates wait this long for others to share their write: a burst of run ends (thousands
 * of jobs due in one minute end together) then costs a few batched writes instead of one each.
 */
export const UPDATE_FLUSH_MS = 5;
/**
 * At most this many status updates per write; a queue this long is written without waiting. Small
 * enough that one write holds Redis for a few milliseconds only, so the due loop's writes interleave
 * with it (with 1,000 per write the 10,000-job burst measured a p99 of 0.9–1.2 s instead of 0.7–0.8 s).
 */
export const UPDATE_BATCH_MAX = 250;

/**
 * A batch of due jobs is committed in up to this many parts at once, so that the leader decides
 * one part while the store writes another (the two use different cores), and the first part
 * launches before the last is decided.
 */
const COMMIT_PARTS = 4;
/** Parts are no smaller than this: a small batch is one write. */
const MIN_COMMIT_PART = 50;

/** A runner's status update waiting for its batched write. */
interface QueuedUpdate {
  readonly update: TaskStatusUpdate;
  readonly jobId: JobId;
  /** The term in which it arrived; its epoch fences the write. */
  readonly term: LeadershipTerm;
  readonly written: () => void;
}

/** One job's share of a batch of status updates, in arrival order. */
interface JobUpdates {
  readonly jobId: JobId;
  readonly updates: TaskStatusUpdate[];
}

/**
 * The leader's loop: takes a batch of due jobs from the store's due index, decides for each
 * (domain), commits the decisions in a few fenced batch writes, and only then acts on those that
 * were committed (launch, kill); the next batch is listed and decided while the one before is
 * still being written. Status updates from the runners are queued for a few milliseconds and
 * committed in batches the same way, in arrival order. A committed launch is never repeated: if
 * this instance dies before the runner starts it, the next leader's reconciliation closes the run
 * as lost, and the retry policy takes over.
 */
@Injectable()
export class SchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Scheduler');
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private queuedUpdates: QueuedUpdate[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> | null = null;
  /** The batch of due jobs being committed and launched while the next one is listed. */
  private ahead: { readonly jobs: ReadonlySet<string>; readonly done: Promise<boolean> } | null =
    null;

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
    // Updates already queued get one attempt (the term is over, so no retries): what they miss,
    // the next leader's reconciliation learns again.
    this.flushUpdates();
    while (this.flushing) await this.flushing;
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
          // A run committed but not yet handed to its runner would be reported lost.
          await this.settleDue();
          await this.reconcile(term);
          nextReconcile = Date.now() + this.settings.reconcileIntervalMs;
        }
        if (handled < this.settings.batchSize) {
          // Between bursts only: behind the batch scripts in Redis, it would stall the pipeline.
          await this.stopOrphanedRuns();
          await this.sleepUntilDue(term);
        }
      }
      await this.settleDue();
    } catch (error) {
      await this.settleDue();
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

  /**
   * Lists the next batch of due jobs and starts committing it, then waits for the batch before it
   * to be committed and acted on: two batches overlap, so the leader decides one while the store
   * writes the other. Returns how many jobs were due (a full batch means more may be waiting), or
   * 0 after a failed read or write, so that the loop waits for the next poll rather than spin.
   * Nothing is left under way when it returns less than a full batch.
   */
  private async runDueBatch(term: LeadershipTerm): Promise<number> {
    const previous = this.ahead;
    this.ahead = null;
    let due: JobId[] = [];
    let ok = true;
    try {
      // The batch under way may still be in the index until its write lands: skip its jobs.
      const listed = await this.jobs.listDue(
        this.clock.now(),
        this.settings.batchSize + (previous?.jobs.size ?? 0),
      );
      due = listed
        .filter((jobId) => !previous?.jobs.has(jobKey(jobId)))
        .slice(0, this.settings.batchSize);
    } catch (error) {
      this.logger.warn({ msg: 'cannot read due jobs', error: String(error) });
      ok = false;
    }
    if (due.length > 0 && !term.signal.aborted) {
      this.ahead = { jobs: new Set(due.map(jobKey)), done: this.commitBatch(due, term) };
    }
    if (previous) ok = (await previous.done) && ok;
    if (!ok || due.length < this.settings.batchSize) ok = (await this.settleDue()) && ok;
    return ok ? due.length : 0;
  }

  /** Waits for the batch under way, if any; false when one of its writes failed. */
  private async settleDue(): Promise<boolean> {
    const ahead = this.ahead;
    this.ahead = null;
    return ahead ? ahead.done : true;
  }

  /** Commits a batch in parts, a few at once, each acted on as soon as it is committed. */
  private async commitBatch(due: JobId[], term: LeadershipTerm): Promise<boolean> {
    const size = Math.max(MIN_COMMIT_PART, Math.ceil(due.length / COMMIT_PARTS));
    const parts: JobId[][] = [];
    for (let start = 0; start < due.length; start += size) {
      parts.push(due.slice(start, start + size));
    }
    const launching = Math.max(1, Math.ceil(this.settings.concurrency / parts.length));
    let ok = true;
    try {
      await forEachConcurrently(parts, COMMIT_PARTS, async (part) => {
        ok = (await this.commitDue(part, term, launching)) && ok;
      });
    } catch (error) {
      // Nobody may be waiting for this batch yet: a rejection here would go unhandled.
      this.logger.error({ msg: 'due batch failed', epoch: term.epoch, error: String(error) });
      return false;
    }
    return ok;
  }

  /** Commits one part of a batch in one fenced write, then acts on what was committed. */
  private async commitDue(
    due: JobId[],
    term: LeadershipTerm,
    concurrency: number,
  ): Promise<boolean> {
    // The store may call a change again after a concurrent write; the last call is the one stored.
    const decisions: Array<DueDecision | null> = due.map(() => null);
    let results: JobBatchResult[];
    try {
      results = await this.jobs.updateMany(
        due.map((jobId, i) => ({
          jobId,
          change: (current: Job) => {
            const decision = decideDue(current, this.context(this.clock.now(), current));
            decisions[i] = decision;
            return decision && { job: decision.job, history: decision.history };
          },
        })),
        { epoch: term.epoch },
      );
    } catch (error) {
      this.reportCommitFailure(due, error);
      return false;
    }
    const committed: Array<{ readonly job: Job; readonly decision: DueDecision }> = [];
    let failed = false;
    results.forEach((result, i) => {
      const decision = decisions[i];
      if (result.status === 'updated' && decision) committed.push({ job: result.job, decision });
      else if (result.status === 'failed') {
        failed = true;
        this.reportCommitFailure([due[i]], result.error);
      }
    });
    await forEachConcurrently(committed, concurrency, ({ job, decision }) =>
      this.act(job, decision),
    );
    return !failed;
  }

  private async act(job: Job, decision: DueDecision): Promise<void> {
    for (const skip of decision.skipped) this.metrics.missed(skip.reason, 1);
    if (decision.kill) {
      await this.runnerOf(job.runtime.run?.runner ?? '')
        ?.kill(decision.kill.taskId)
        .catch((error: unknown) => this.logger.warn({ msg: 'kill failed', error: String(error) }));
    }
    if (decision.launch) await this.launch(job, decision.launch.run.taskId);
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
   * Queues a runner's status update for the next batched write; resolves once it is written (or
   * given up). Updates reaching a follower are left to the leader's reconciliation.
   */
  private applyUpdate(update: TaskStatusUpdate): Promise<void> {
    const term = this.election.currentTerm();
    const jobId = jobIdOfTask(update.taskId);
    if (!term || !jobId) {
      this.logger.debug({
        msg: 'status update not applied',
        taskId: update.taskId,
        leader: term !== null,
      });
      return Promise.resolve();
    }
    return new Promise((written) => {
      this.queuedUpdates.push({ update, jobId, term, written });
      if (this.flushing) return; // the write under way takes the queue when it is done
      if (this.queuedUpdates.length >= UPDATE_BATCH_MAX) this.flushUpdates();
      else this.flushTimer ??= setTimeout(() => this.flushUpdates(), UPDATE_FLUSH_MS);
    });
  }

  private flushUpdates(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.flushing || this.queuedUpdates.length === 0) return;
    this.flushing = this.drainUpdates();
  }

  /** The only writer of status updates: batches never overtake each other, so order holds. */
  private async drainUpdates(): Promise<void> {
    try {
      while (this.queuedUpdates.length > 0) {
        const batch = this.queuedUpdates.splice(0, UPDATE_BATCH_MAX);
        // By epoch: an election may hand out a new view object of the same term on each call.
        const byTerm = new Map<number, QueuedUpdate[]>();
        for (const queued of batch) {
          const same = byTerm.get(queued.term.epoch);
          if (same) same.push(queued);
          else byTerm.set(queued.term.epoch, [queued]);
        }
        for (const queued of byTerm.values()) await this.commitUpdates(queued[0].term, queued);
        for (const queued of batch) queued.written();
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Writes a term's updates, one change per job, retrying what the store could not take while it
   * is unreachable and the term lasts.
   */
  private async commitUpdates(
    term: LeadershipTerm,
    queued: readonly QueuedUpdate[],
  ): Promise<void> {
    const byJob = new Map<string, JobUpdates>();
    for (const { jobId, update } of queued) {
      const key = jobKey(jobId);
      const same = byJob.get(key);
      if (same) same.updates.push(update);
      else byJob.set(key, { jobId, updates: [update] });
    }
    let pending = [...byJob.values()];
    let ended = false;
    for (let attempt = 0; pending.length > 0; attempt++) {
      const transitions: Array<TaskTransitions | null> = pending.map(() => null);
      let results: JobBatchResult[];
      try {
        results = await this.jobs.updateMany(
          pending.map(({ jobId, updates }, i) => ({
            jobId,
            change: (current: Job) => {
              const transition = applyTaskUpdates(current, updates, this.clock.now());
              transitions[i] = transition;
              return transition && { job: transition.job, history: transition.history };
            },
          })),
          { epoch: term.epoch },
        );
      } catch (error) {
        results = pending.map(() => ({ status: 'failed', error: asJobsError(error) }));
      }
      const retry: JobUpdates[] = [];
      const refused = new Map<JobsError, JobId[]>();
      results.forEach((result, i) => {
        if (result.status === 'updated') {
          for (const outcome of transitions[i]?.outcomes ?? []) {
            this.metrics.ended(outcome);
            ended = true;
          }
        } else if (result.status === 'failed') {
          if (isUnavailable(result.error) && !term.signal.aborted) retry.push(pending[i]);
          else {
            const jobIds = refused.get(result.error) ?? [];
            jobIds.push(pending[i].jobId);
            refused.set(result.error, jobIds);
          }
        }
      });
      for (const [error, jobIds] of refused) this.reportCommitFailure(jobIds, error);
      pending = retry;
      if (pending.length > 0) await this.pause(term, Math.min(100 * 2 ** attempt, 2_000), false);
    }
    if (ended) this.poke(); // the jobs may have queued runs waiting for these to end
  }

  private reportCommitFailure(jobIds: readonly JobId[], error: unknown): void {
    if (error instanceof JobsError && error.code === JobsErrorCode.JOB_NOT_FOUND) return; // deleted meanwhile
    const stale = error instanceof JobsError && error.code === JobsErrorCode.STALE_FENCE;
    this.logger.warn({
      msg: stale ? 'write refused: leadership moved on' : 'cannot commit',
      job: jobIds[0],
      jobs: jobIds.length,
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

  /**
   * Sends a kill for each run whose job was deleted while it ran, then forgets it: its end has no
   * job left to record it (the runner's update is dropped as for any unknown job). A run of a
   * runner this server lacks is forgotten too; a kill that fails is tried again next time.
   */
  private async stopOrphanedRuns(): Promise<void> {
    let orphans: OrphanedRun[];
    try {
      orphans = await this.jobs.listOrphanedRuns();
    } catch (error) {
      this.logger.warn({ msg: 'cannot read runs of deleted jobs', error: String(error) });
      return;
    }
    if (orphans.length === 0) return;
    const stopped: string[] = [];
    await Promise.all(
      orphans.map(async ({ taskId, runner }) => {
        const target = this.runnerOf(runner);
        try {
          await target?.kill(taskId);
          stopped.push(taskId);
          if (target) this.logger.log({ msg: 'killed the run of a deleted job', taskId, runner });
        } catch (error) {
          this.logger.warn({
            msg: 'cannot kill the run of a deleted job',
            taskId,
            error: String(error),
          });
        }
      }),
    );
    try {
      await this.jobs.forgetOrphanedRuns(stopped);
    } catch (error) {
      // Kept: the kill is sent again next time, and runners ignore kills of tasks they lost.
      this.logger.warn({ msg: 'cannot forget runs of deleted jobs', error: String(error) });
    }
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

function isUnavailable(error: unknown): boolean {
  return error instanceof JobsError && error.code === JobsErrorCode.STORE_UNAVAILABLE;
}

/** Anything else a store throws is a failure to reach it (as the adapters report it). */
function asJobsError(error: unknown): JobsError {
  return error instanceof JobsError ? error : JobsError.storeUnavailable(error);
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
