import type { JobId } from './job-id';
import { JobsError } from './jobs.errors';

export type JobState = 'Idle' | 'Staging' | 'Starting' | 'Running' | 'Failed';

export const JOB_STATES: readonly JobState[] = ['Idle', 'Staging', 'Starting', 'Running', 'Failed'];

export interface CronSchedule {
  readonly type: 'Cron';
  readonly cron: string;
}

export type JobContainer =
  | {
      readonly type: 'Docker';
      readonly docker: { readonly image: string; readonly forcePullImage: boolean };
    }
  | { readonly type: 'Mesos'; readonly mesos: { readonly image: string } };

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
}

/** What the scheduler maintains; never changed by a user edit. */
export interface JobRuntime {
  readonly state: JobState;
  /** When the current or last run was launched; null when the job never ran. */
  readonly lastStart: Date | null;
  readonly currentTaskId: string;
  readonly currentAgentId: string;
  readonly retries: number;
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
};

export function newJob(jobId: JobId, spec: JobSpec): Job {
  return { jobId, ...spec, runtime: INITIAL_RUNTIME };
}

/**
 * A partial update: absent fields keep their value; maps and arrays are replaced whole.
 * `container.docker` wins over `container.mesos` when both are given, as in the original.
 */
export interface JobPatch {
  readonly schedule?: { readonly cron: string };
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
}

export function applyJobPatch(job: Job, patch: JobPatch): Job {
  const { schedule, container, ...scalars } = patch;
  const defined = Object.fromEntries(
    Object.entries(scalars).filter(([, value]) => value !== undefined),
  ) as Partial<JobSpec>;
  return {
    ...job,
    ...defined,
    schedule: schedule ? { type: 'Cron', cron: schedule.cron } : job.schedule,
    container: container ? patchContainer(job.container, container) : job.container,
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
