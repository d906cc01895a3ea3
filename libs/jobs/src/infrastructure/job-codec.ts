import type { Job, JobRuntime, JobSpec } from '../domain/job';
import type { JobId } from '../domain/job-id';
import type { TaskRecord } from '../domain/task-record';

/**
 * The stored form of jobs and task records, shared by every adapter so that a store written by one
 * release is read by the next. Spec and runtime are kept apart: the API edits one, the scheduler the other.
 */
type StoredRuntime = Omit<JobRuntime, 'lastStart'> & { lastStart: string | null };
type StoredTask = Omit<TaskRecord, 'start' | 'end'> & { start: string; end: string };

export function encodeSpec(job: Job): string {
  const { jobId: _jobId, runtime: _runtime, ...spec } = job;
  return JSON.stringify(spec);
}

export function encodeRuntime(runtime: JobRuntime): string {
  const stored: StoredRuntime = { ...runtime, lastStart: runtime.lastStart?.toISOString() ?? null };
  return JSON.stringify(stored);
}

export function decodeJob(jobId: JobId, spec: string, runtime: string): Job {
  const storedRuntime = JSON.parse(runtime) as StoredRuntime;
  return {
    jobId,
    ...(JSON.parse(spec) as JobSpec),
    runtime: {
      ...storedRuntime,
      lastStart: storedRuntime.lastStart === null ? null : new Date(storedRuntime.lastStart),
    },
  };
}

export function encodeTask(task: TaskRecord): string {
  const stored: StoredTask = {
    ...task,
    start: task.start.toISOString(),
    end: task.end.toISOString(),
  };
  return JSON.stringify(stored);
}

export function decodeTask(text: string): TaskRecord {
  const stored = JSON.parse(text) as StoredTask;
  return { ...stored, start: new Date(stored.start), end: new Date(stored.end) };
}
