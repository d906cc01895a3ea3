import type { Job, JobRuntime, JobSpec } from '../domain/job';
import { newJob } from '../domain/job';
import type { JobId } from '../domain/job-id';
import type { TaskRecord } from '../domain/task-record';

export const SAMPLE_SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '*/1 * * * *' },
  env: { FOO: 'foo' },
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine:3.8', forcePullImage: false } },
  cpus: 1,
  mem: 128,
  disk: 0,
  cmd: 'echo $FOO',
  user: 'someone',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

/** A fixed instant for fixtures: 2026-01-01T00:00:30Z, half a minute before a `*\/1` occurrence. */
export const FIXTURE_NOW = new Date('2026-01-01T00:00:30Z');

export function sampleJob(
  group: string,
  project: string,
  id: string,
  spec: Partial<JobSpec> = {},
  now: Date = FIXTURE_NOW,
): Job {
  const jobId: JobId = { group, project, id };
  return newJob(jobId, { ...SAMPLE_SPEC, ...spec }, now, 'UTC');
}

export function withRuntime(job: Job, runtime: Partial<JobRuntime>): Job {
  return { ...job, runtime: { ...job.runtime, ...runtime } };
}

export function sampleTask(taskId: string, endIso: string, message = ''): TaskRecord {
  const end = new Date(endIso);
  return {
    start: new Date(end.getTime() - 1500),
    end,
    taskId,
    executorId: taskId,
    agentId: 'agent-S0',
    frameworkId: 'framework-0000',
    executorUrl: '',
    message,
    reason: message ? 'REASON_COMMAND_EXECUTOR_FAILED' : '',
    source: message ? 'SOURCE_EXECUTOR' : '',
    scheduledAt: new Date(end.getTime() - 2000),
    trigger: 'cron',
    attempt: 1,
    state: message ? 'Failed' : 'Finished',
    exitCode: message ? 1 : 0,
    runner: 'local',
  };
}
