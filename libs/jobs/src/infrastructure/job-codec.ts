import type { ActiveRun, Job, JobRuntime, JobSpec, Occurrence, PendingRetry } from '../domain/job';
import { INITIAL_RUNTIME } from '../domain/job';
import type { JobId } from '../domain/job-id';
import type { TaskRecord } from '../domain/task-record';

/**
 * The stored form of jobs and task records, shared by every adapter so that a store written by one
 * release is read by the next. Spec and runtime are kept apart: the API edits one, the scheduler
 * the other. Dates are ISO 8601 strings; fields a newer release added decode to their defaults.
 */
export function encodeSpec(job: Job): string {
  const { jobId: _jobId, runtime: _runtime, ...spec } = job;
  return JSON.stringify(spec);
}

export function encodeRuntime(runtime: JobRuntime): string {
  return JSON.stringify(runtime);
}

export function decodeJob(jobId: JobId, spec: string, runtime: string): Job {
  return { jobId, ...(JSON.parse(spec) as JobSpec), runtime: decodeRuntime(runtime) };
}

type Stored<T> = {
  [K in keyof T]-?: T[K] extends Date
    ? string
    : T[K] extends Date | null
      ? string | null
      : T[K] extends Date | null | undefined
        ? string | null | undefined
        : T[K];
};
type StoredOccurrence = Stored<Occurrence>;

interface StoredRuntime extends Omit<Stored<JobRuntime>, 'queue' | 'retry' | 'run' | 'paused'> {
  readonly queue?: readonly StoredOccurrence[];
  readonly retry?: Stored<PendingRetry> | null;
  readonly run?: Stored<ActiveRun> | null;
  readonly paused?: { readonly since: string; readonly until: string | null } | null;
}

export function decodeRuntime(text: string): JobRuntime {
  const stored = JSON.parse(text) as Partial<StoredRuntime>;
  return {
    state: stored.state ?? INITIAL_RUNTIME.state,
    lastStart: date(stored.lastStart),
    currentTaskId: stored.currentTaskId ?? '',
    currentAgentId: stored.currentAgentId ?? '',
    retries: stored.retries ?? 0,
    consecutiveFailures: stored.consecutiveFailures ?? 0,
    rev: stored.rev ?? 0,
    nextFireAt: date(stored.nextFireAt),
    queue: (stored.queue ?? []).map(decodeOccurrence),
    retry: stored.retry
      ? {
          ...decodeOccurrence(stored.retry),
          dueAt: new Date(stored.retry.dueAt),
          attempt: stored.retry.attempt,
        }
      : null,
    run: stored.run
      ? {
          ...stored.run,
          ...decodeOccurrence(stored.run),
          launchedAt: new Date(stored.run.launchedAt),
          deadline: date(stored.run.deadline),
          killRequestedAt: date(stored.run.killRequestedAt),
        }
      : null,
    paused: stored.paused
      ? { since: new Date(stored.paused.since), until: date(stored.paused.until) }
      : null,
  };
}

function decodeOccurrence(stored: StoredOccurrence): Occurrence {
  return { scheduledAt: new Date(stored.scheduledAt), trigger: stored.trigger };
}

function date(value: string | null | undefined): Date | null {
  return value === null || value === undefined ? null : new Date(value);
}

type StoredTask = Omit<TaskRecord, 'start' | 'end' | 'scheduledAt'> & {
  start: string;
  end: string;
  scheduledAt?: string;
};

export function encodeTask(task: TaskRecord): string {
  return JSON.stringify(task);
}

export function decodeTask(text: string): TaskRecord {
  const stored = JSON.parse(text) as StoredTask;
  const { scheduledAt, ...rest } = stored;
  return {
    ...rest,
    start: new Date(stored.start),
    end: new Date(stored.end),
    ...(scheduledAt === undefined ? {} : { scheduledAt: new Date(scheduledAt) }),
  };
}
