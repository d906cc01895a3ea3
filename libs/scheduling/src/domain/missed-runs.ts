import type { Job, MissedRunPolicy, Occurrence } from '@rhythm/jobs';
import { CronExpression, timezoneOf } from '@rhythm/jobs';

/** Why an occurrence never started. */
export type SkipReason = 'deadline-exceeded' | 'collapsed' | 'catch-up-limit' | 'superseded';

export interface SkippedOccurrence {
  readonly scheduledAt: Date;
  readonly reason: SkipReason;
}

/** `once` and `all` start late occurrences however late; `skip` only within this tolerance. */
export const SKIP_POLICY_DEFAULT_DEADLINE_SECONDS = 60;
export const DEFAULT_MAX_CATCH_UP = 10;
/** More due occurrences than this are not even enumerated: the oldest are counted as skipped. */
const MAX_ENUMERATED = 10_000;

export const DEFAULT_MISSED_RUN_POLICY: MissedRunPolicy = { policy: 'once' };

/** The cron occurrences due at `now`, what to do with them, and where the cron continues. */
export interface DueCronOccurrences {
  /** To run, oldest first (at most one unless the policy is `all`). */
  readonly toRun: readonly Occurrence[];
  readonly skipped: readonly SkippedOccurrence[];
  /** Occurrences skipped beyond those listed (too many to enumerate). */
  readonly uncounted: number;
  readonly nextFireAt: Date | null;
}

/**
 * Applies the job's missed-run policy to every cron occurrence from `nextFireAt` up to `now`.
 * Too late means later than the starting deadline. `skip`: only the latest on-time occurrence
 * runs; `once`: the latest on-time one runs and the others collapse into it; `all`: every on-time
 * one runs, oldest first, at most `maxCatchUp` of them (the oldest beyond that are skipped).
 */
export function dueCronOccurrences(
  job: Job,
  now: Date,
  defaultTimezone: string,
): DueCronOccurrences {
  const first = job.runtime.nextFireAt;
  const cron = CronExpression.parse(job.schedule.cron, timezoneOf(job, defaultTimezone));
  if (!first || first > now) return { toRun: [], skipped: [], uncounted: 0, nextFireAt: first };
  const due: Date[] = [];
  let uncounted = 0;
  for (let at: Date | null = first; at && at <= now; at = cron.nextAfter(at)) {
    if (due.length === MAX_ENUMERATED) {
      due.shift();
      uncounted++;
    }
    due.push(at);
  }
  const policy = job.missedRuns ?? DEFAULT_MISSED_RUN_POLICY;
  const deadlineSeconds =
    policy.startingDeadlineSeconds ??
    (policy.policy === 'skip' ? SKIP_POLICY_DEFAULT_DEADLINE_SECONDS : null);
  const onTime = (at: Date) =>
    deadlineSeconds === null || now.getTime() - at.getTime() <= deadlineSeconds * 1000;
  const skipped: SkippedOccurrence[] = due
    .filter((at) => !onTime(at))
    .map((scheduledAt) => ({ scheduledAt, reason: 'deadline-exceeded' as const }));
  const runnable = due.filter(onTime);
  const keep = policy.policy === 'all' ? (policy.maxCatchUp ?? DEFAULT_MAX_CATCH_UP) : 1;
  const dropped = runnable.slice(0, Math.max(0, runnable.length - keep));
  const reason: SkipReason = policy.policy === 'all' ? 'catch-up-limit' : 'collapsed';
  skipped.push(...dropped.map((scheduledAt) => ({ scheduledAt, reason })));
  const toRun = runnable.slice(dropped.length).map((scheduledAt) => ({
    scheduledAt,
    trigger: isLate(scheduledAt, now) ? ('catch-up' as const) : ('cron' as const),
  }));
  skipped.sort((a, b) => a.scheduledAt.getTime() - b.scheduledAt.getTime());
  return { toRun, skipped, uncounted, nextFireAt: cron.nextAfter(now) };
}

/** An occurrence started more than a minute late is a catch-up run, not an on-time cron run. */
function isLate(at: Date, now: Date): boolean {
  return now.getTime() - at.getTime() > 60_000;
}

/** Whether a queued catch-up occurrence may still start under the job's deadline. */
export function withinDeadline(job: Job, occurrence: Occurrence, now: Date): boolean {
  if (occurrence.trigger !== 'catch-up' && occurrence.trigger !== 'cron') return true;
  const deadline = job.missedRuns?.startingDeadlineSeconds;
  return (
    deadline === undefined || now.getTime() - occurrence.scheduledAt.getTime() <= deadline * 1000
  );
}
