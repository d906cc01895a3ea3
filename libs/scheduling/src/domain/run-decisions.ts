import type { ActiveRun, Job, JobRuntime, Occurrence, TaskRecord } from '@rhythm/jobs';
import { nextFireAfter } from '@rhythm/jobs';
import { dueCronOccurrences, type SkippedOccurrence, withinDeadline } from './missed-runs';
import type { SchedulingContext } from './scheduling-context';

/** A run the scheduler committed to start. */
export interface LaunchPlan {
  readonly run: ActiveRun;
}

/** What the scheduler does for a due job: the job's new state, records to add, and actions. */
export interface DueDecision {
  readonly job: Job;
  readonly history: readonly TaskRecord[];
  readonly launch: LaunchPlan | null;
  /** A run to kill (its timeout passed). */
  readonly kill: { readonly taskId: string; readonly reason: string } | null;
  /** Every occurrence that will never start, for metrics (history lists at most a few). */
  readonly skipped: readonly SkippedOccurrence[];
}

/** Skipped occurrences recorded one by one per decision; more are summed up in one record. */
const MAX_SKIP_RECORDS = 10;

/**
 * Decides what a due job does now. Pure: the same job, time and ids give the same decision, so
 * the store's compare-and-set can retry it safely. Returns null when nothing changes.
 *
 * Order of business: a run in flight only times out; a pause ends when its time comes; the due
 * cron occurrences go through the missed-run policy; then the earliest pending occurrence (a retry,
 * a queued run-now or catch-up, or the cron occurrence) starts, and the rest wait for the next
 * decision (one run at a time, never two).
 */
export function decideDue(job: Job, ctx: SchedulingContext): DueDecision | null {
  const { now } = ctx;
  let runtime = job.runtime;
  if (runtime.run) return decideTimeout(job, runtime.run, now);
  if (runtime.paused) {
    if (!runtime.paused.until || runtime.paused.until > now) return null;
    runtime = {
      ...runtime,
      paused: null,
      nextFireAt: nextFireAfter(job, now, ctx.defaultTimezone),
    };
  }

  const cron = dueCronOccurrences({ ...job, runtime }, now, ctx.defaultTimezone);
  const skipped: SkippedOccurrence[] = [...cron.skipped];
  let retry = runtime.retry;
  if (retry && cron.toRun.length > 0) {
    // A new occurrence resets retries, as in the original Rhythm.
    skipped.push({ scheduledAt: retry.scheduledAt, reason: 'superseded' });
    retry = null;
  }
  const pending: Occurrence[] = [...runtime.queue, ...cron.toRun];
  const expired = pending.filter((occurrence) => !withinDeadline(job, occurrence, now));
  skipped.push(
    ...expired.map((o) => ({ scheduledAt: o.scheduledAt, reason: 'deadline-exceeded' as const })),
  );
  const queue = pending
    .filter((occurrence) => withinDeadline(job, occurrence, now))
    .sort((a, b) => a.scheduledAt.getTime() - b.scheduledAt.getTime());

  runtime = { ...runtime, nextFireAt: cron.nextFireAt, retry, queue };
  const history = skipRecords(skipped, cron.uncounted, now);
  const launch = startNext(job, runtime, ctx);
  const decided: Job = { ...job, runtime: launch ? launch.runtime : runtime };
  if (!launch && history.length === 0 && sameSchedule(job.runtime, decided.runtime)) return null;
  return {
    job: decided,
    history,
    launch: launch ? { run: launch.run } : null,
    kill: null,
    skipped,
  };
}

/** A user's kill request, or the run's timeout, has come: kill it (once). */
function decideTimeout(job: Job, run: ActiveRun, now: Date): DueDecision | null {
  if (run.killReason !== null) return null;
  const requested = run.killRequestedAt && run.killRequestedAt <= now;
  const timedOut = run.deadline && run.deadline <= now;
  if (!requested && !timedOut) return null;
  const reason = requested ? KILLED_ON_REQUEST : `timed out after ${job.timeoutSeconds ?? 0} s`;
  const runtime: JobRuntime = { ...job.runtime, run: { ...run, killReason: reason } };
  return {
    job: { ...job, runtime },
    history: [],
    launch: null,
    kill: { taskId: run.taskId, reason },
    skipped: [],
  };
}

/** The kill reason of a run killed because a user asked. */
export const KILLED_ON_REQUEST = 'killed on request';

function startNext(
  job: Job,
  runtime: JobRuntime,
  ctx: SchedulingContext,
): { runtime: JobRuntime; run: ActiveRun } | null {
  const { now } = ctx;
  const retryDue = runtime.retry && runtime.retry.dueAt <= now ? runtime.retry : null;
  const queued = runtime.queue[0];
  const useRetry = retryDue && (!queued || retryDue.scheduledAt <= queued.scheduledAt);
  if (!useRetry && !queued) return null;
  const occurrence: Occurrence = useRetry ? { ...retryDue, trigger: 'retry' } : queued;
  const attempt = useRetry ? retryDue.attempt : 1;
  const taskId = ctx.newTaskId(job.jobId);
  const run: ActiveRun = {
    scheduledAt: occurrence.scheduledAt,
    trigger: occurrence.trigger,
    taskId,
    attempt,
    runner: ctx.runner,
    launchedAt: now,
    deadline: job.timeoutSeconds ? new Date(now.getTime() + job.timeoutSeconds * 1000) : null,
    killReason: null,
  };
  return {
    run,
    runtime: {
      ...runtime,
      state: 'Staging',
      lastStart: now,
      currentTaskId: taskId,
      currentAgentId: '',
      retries: attempt - 1,
      queue: useRetry ? runtime.queue : runtime.queue.slice(1),
      retry: useRetry ? null : runtime.retry,
      run,
    },
  };
}

function sameSchedule(before: JobRuntime, after: JobRuntime): boolean {
  return (
    before.nextFireAt?.getTime() === after.nextFireAt?.getTime() &&
    before.queue.length === after.queue.length &&
    before.retry === after.retry &&
    before.paused === after.paused
  );
}

const REASON_CODES: Record<SkippedOccurrence['reason'], string> = {
  'deadline-exceeded': 'SKIPPED_DEADLINE_EXCEEDED',
  collapsed: 'SKIPPED_COLLAPSED',
  'catch-up-limit': 'SKIPPED_CATCH_UP_LIMIT',
  superseded: 'SKIPPED_SUPERSEDED',
};

const REASON_TEXT: Record<SkippedOccurrence['reason'], string> = {
  'deadline-exceeded': 'it could not start within the starting deadline',
  collapsed: 'missed runs collapse into one (missed-run policy)',
  'catch-up-limit': 'more missed runs than the catch-up limit',
  superseded: 'a newer occurrence started instead of its retry',
};

/** Skipped occurrences as task records: the most recent ones, and a summary of the rest. */
function skipRecords(
  skipped: readonly SkippedOccurrence[],
  uncounted: number,
  now: Date,
): TaskRecord[] {
  const listed = skipped.slice(-MAX_SKIP_RECORDS);
  const records = listed.map((skip) =>
    skipRecord(
      now,
      skip.scheduledAt,
      REASON_CODES[skip.reason],
      `Occurrence of ${skip.scheduledAt.toISOString()} skipped: ${REASON_TEXT[skip.reason]}`,
    ),
  );
  const more = skipped.length - listed.length + uncounted;
  if (more > 0) {
    const first = skipped[0]?.scheduledAt ?? now;
    records.unshift(
      skipRecord(
        now,
        first,
        'SKIPPED_MANY',
        `${more} more occurrences from ${first.toISOString()} on were skipped`,
      ),
    );
  }
  return records;
}

function skipRecord(now: Date, scheduledAt: Date, reason: string, message: string): TaskRecord {
  return {
    start: now,
    end: now,
    taskId: '',
    executorId: '',
    agentId: '',
    frameworkId: '',
    executorUrl: '',
    message,
    reason,
    source: 'SCHEDULER',
    scheduledAt,
    trigger: 'cron',
    attempt: 0,
    state: 'Skipped',
    exitCode: null,
    runner: '',
  };
}
