import { CronExpression } from './cron-expression';
import type { JobId } from './job-id';
import { JobsError } from './jobs.errors';

export type JobState = 'Idle' | 'Staging' | 'Starting' | 'Running' | 'Failed';

export const JOB_STATES: readonly JobState[] = ['Idle', 'Staging', 'Starting', 'Running', 'Failed'];

export interface CronSchedule {
  readonly type: 'Cron';
  readonly cron: string;
  /** IANA time zone the cron is read in; absent means the server's default (RHYTHM_TIMEZONE). */
  readonly timezone?: string;
}

/** What happens to occurrences that could not start on time (downtime, leader gap, a long run). */
export type MissedRunPolicyName = 'skip' | 'once' | 'all';

export interface MissedRunPolicy {
  readonly policy: MissedRunPolicyName;
  /** An occurrence later than this never starts; absent means no limit. */
  readonly startingDeadlineSeconds?: number;
  /** With `all`: the most missed occurrences run one after another; older ones are skipped. */
  readonly maxCatchUp?: number;
}

/** Delay before retry n (1-based): min(backoff × 2^(n−1), maxBackoff). */
export interface RetryBackoff {
  readonly backoffSeconds: number;
  readonly maxBackoffSeconds: number;
}

export type JobContainer =
  | {
      readonly type: 'Docker';
      readonly docker: { readonly image: string; readonly forcePullImage: boolean };
    }
  | { readonly type: 'Mesos'; readonly mesos: { readonly image: string } };

/** A runner other than the command runner, with the options its schema validated. */
export interface JobRunner {
  readonly kind: string;
  readonly options: Readonly<Record<string, unknown>>;
}

/** What a user configures: everything but the identity and the runtime. */
export interface JobSpec {
  readonly schedule: CronSchedule;
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly container: JobContainer;
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly cmd: string;
  readonly user: string;
  readonly shell: boolean;
  readonly arguments: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  readonly maxRetries: number;
  /** Absent: `once` with no deadline, as the original Rhythm. */
  readonly missedRuns?: MissedRunPolicy;
  /** Absent: the defaults of DEFAULT_RETRY_BACKOFF. */
  readonly retryBackoff?: RetryBackoff;
  /** A run still going after this long is killed and recorded as failed; absent: no limit. */
  readonly timeoutSeconds?: number;
  /**
   * The job pauses itself once this many occurrences in a row have failed (retries included);
   * absent: never.
   */
  readonly pauseAfterFailures?: number;
  /** Absent: the command runner (Mesos when configured, otherwise local processes). */
  readonly runner?: JobRunner;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { backoffSeconds: 10, maxBackoffSeconds: 600 };

/** Why a run started. */
export type RunTrigger = 'cron' | 'manual' | 'retry' | 'catch-up';

/** One occurrence of a job: a cron time, or a run-now request. */
export interface Occurrence {
  readonly scheduledAt: Date;
  readonly trigger: RunTrigger;
}

/** The run in flight. */
export interface ActiveRun extends Occurrence {
  readonly taskId: string;
  /** 1 for the first attempt of an occurrence. */
  readonly attempt: number;
  readonly runner: string;
  readonly launchedAt: Date;
  /** When the run times out, if the job has a timeout. */
  readonly deadline: Date | null;
  /** Set once the scheduler asked the runner to kill it (timeout or user request). */
  readonly killReason: string | null;
  /** A user asked to kill the run (through any instance); the leader acts on it. */
  readonly killRequestedAt?: Date | null;
}

/** A failed occurrence waiting for its next attempt. */
export interface PendingRetry extends Occurrence {
  readonly dueAt: Date;
  readonly attempt: number;
}

export interface Pause {
  readonly since: Date;
  /** The pause ends by itself at this time; null: until resumed. */
  readonly until: Date | null;
}

/**
 * What the scheduler maintains; never changed by a spec edit. Everything that decides a launch is
 * here, in the store, so that any instance that becomes leader continues exactly where the last
 * one stopped.
 */
export interface JobRuntime {
  readonly state: JobState;
  /** When the current or last run was launched; null when the job never ran. */
  readonly lastStart: Date | null;
  readonly currentTaskId: string;
  readonly currentAgentId: string;
  /** Retries used by the current occurrence; reset when the next occurrence starts. */
  readonly retries: number;
  /** Occurrences that failed in a row (after their retries); 0 after a success or a resume. */
  readonly consecutiveFailures: number;
  /** Increases with every change; the store's compare-and-set compares it. */
  readonly rev: number;
  /** The next cron occurrence not yet started or skipped. */
  readonly nextFireAt: Date | null;
  /** Run-now requests and catch-up occurrences, oldest first. */
  readonly queue: readonly Occurrence[];
  readonly retry: PendingRetry | null;
  readonly run: ActiveRun | null;
  readonly paused: Pause | null;
}

export interface Job extends JobSpec {
  readonly jobId: JobId;
  readonly runtime: JobRuntime;
}

export const INITIAL_RUNTIME: JobRuntime = {
  state: 'Idle',
  lastStart: null,
  currentTaskId: '',
  currentAgentId: '',
  retries: 0,
  consecutiveFailures: 0,
  rev: 0,
  nextFireAt: null,
  queue: [],
  retry: null,
  run: null,
  paused: null,
};

/** A new job waits for its first cron occurrence after `now` (the original ran it at once). */
export function newJob(jobId: JobId, spec: JobSpec, now: Date, defaultTimezone: string): Job {
  const job: Job = { jobId, ...spec, runtime: INITIAL_RUNTIME };
  return {
    ...job,
    runtime: { ...INITIAL_RUNTIME, nextFireAt: nextFireAfter(job, now, defaultTimezone) },
  };
}

export function timezoneOf(spec: JobSpec, defaultTimezone: string): string {
  return spec.schedule.timezone ?? defaultTimezone;
}

/** The first cron occurrence strictly after `instant`, in the job's time zone. */
export function nextFireAfter(spec: JobSpec, instant: Date, defaultTimezone: string): Date | null {
  return CronExpression.parse(spec.schedule.cron, timezoneOf(spec, defaultTimezone)).nextAfter(
    instant,
  );
}

/**
 * The next `count` cron occurrences strictly after `instant`, in order (fewer only if the cron
 * library finds no next one). Pauses and queued runs do not enter into it.
 */
export function upcomingFireTimes(
  spec: JobSpec,
  instant: Date,
  count: number,
  defaultTimezone: string,
): Date[] {
  const times: Date[] = [];
  for (let after = instant; times.length < count;) {
    const next = nextFireAfter(spec, after, defaultTimezone);
    if (next === null) break;
    times.push(next);
    after = next;
  }
  return times;
}

/**
 * When the scheduler must next look at the job: a run's timeout, a pause's end, or the earliest of
 * its queued, retry and cron occurrences. Null: nothing to do until something changes it.
 */
export function dueAt(runtime: JobRuntime): Date | null {
  if (runtime.run) {
    const { killReason, deadline, killRequestedAt } = runtime.run;
    if (killReason !== null) return null;
    if (killRequestedAt && (!deadline || killRequestedAt < deadline)) return killRequestedAt;
    return deadline;
  }
  if (runtime.paused) return runtime.paused.until;
  const candidates = [runtime.queue[0]?.scheduledAt, runtime.retry?.dueAt, runtime.nextFireAt];
  let earliest: Date | null = null;
  for (const candidate of candidates) {
    if (candidate && (!earliest || candidate < earliest)) earliest = candidate;
  }
  return earliest;
}

/**
 * A partial update: absent fields keep their value; maps and arrays are replaced whole.
 * `container.docker` wins over `container.mesos` when both are given, as in the original.
 */
export interface JobPatch {
  readonly schedule?: { readonly cron: string; readonly timezone?: string };
  readonly env?: Readonly<Record<string, string>>;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly container?: {
    readonly docker?: { readonly image?: string; readonly forcePullImage?: boolean };
    readonly mesos?: { readonly image: string };
  };
  readonly cpus?: number;
  readonly mem?: number;
  readonly disk?: number;
  readonly cmd?: string;
  readonly user?: string;
  readonly shell?: boolean;
  readonly arguments?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
  readonly maxRetries?: number;
  readonly missedRuns?: MissedRunPolicy;
  readonly retryBackoff?: RetryBackoff;
  readonly timeoutSeconds?: number;
  /** 0 turns the automatic pause off. */
  readonly pauseAfterFailures?: number;
  readonly runner?: JobRunner;
}

export function applyJobPatch(job: Job, patch: JobPatch): Job {
  const { schedule, container, pauseAfterFailures, ...scalars } = patch;
  const defined = Object.fromEntries(
    Object.entries(scalars).filter(([, value]) => value !== undefined),
  ) as Partial<JobSpec>;
  const patched: Job = {
    ...job,
    ...defined,
    schedule: schedule ? patchSchedule(job.schedule, schedule) : job.schedule,
    container: container ? patchContainer(job.container, container) : job.container,
  };
  if (pauseAfterFailures === undefined) return patched;
  const { pauseAfterFailures: _previous, ...rest } = patched;
  return pauseAfterFailures === 0 ? rest : { ...rest, pauseAfterFailures };
}

/** A new cron keeps the time zone unless one is given with it. */
function patchSchedule(
  current: CronSchedule,
  patch: NonNullable<JobPatch['schedule']>,
): CronSchedule {
  const timezone = patch.timezone ?? current.timezone;
  return timezone === undefined
    ? { type: 'Cron', cron: patch.cron }
    : { type: 'Cron', cron: patch.cron, timezone };
}

/** A spec edit that changes when the job fires restarts its cron from now. */
export function rescheduleIfChanged(
  before: Job,
  after: Job,
  now: Date,
  defaultTimezone: string,
): Job {
  const same =
    before.schedule.cron === after.schedule.cron &&
    timezoneOf(before, defaultTimezone) === timezoneOf(after, defaultTimezone);
  if (same) return after;
  return {
    ...after,
    runtime: { ...after.runtime, nextFireAt: nextFireAfter(after, now, defaultTimezone) },
  };
}

function patchContainer(
  current: JobContainer,
  patch: NonNullable<JobPatch['container']>,
): JobContainer {
  if (patch.docker) {
    const base = current.type === 'Docker' ? current.docker : { image: '', forcePullImage: false };
    const docker = {
      image: patch.docker.image ?? base.image,
      forcePullImage: patch.docker.forcePullImage ?? base.forcePullImage,
    };
    if (docker.image === '') throw JobsError.invalid(['container.docker.image is required']);
    return { type: 'Docker', docker };
  }
  if (patch.mesos) return { type: 'Mesos', mesos: { image: patch.mesos.image } };
  return current;
}
