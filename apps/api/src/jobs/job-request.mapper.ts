import type {
  JobContainer,
  JobPatch,
  JobRunner,
  JobSpec,
  MissedRunPolicy,
  RetryBackoff,
} from '@rhythm/jobs';
import type { CreateJobDto, MissedRunsDto, RetryBackoffDto } from './dto/create-job.dto';
import type { UpdateJobDto } from './dto/update-job.dto';

/** What a job on a runner leaves out reads back as an empty Docker image and no resources. */
const NO_CONTAINER: JobContainer = { type: 'Docker', docker: { image: '', forcePullImage: false } };

/** A validated create payload with the original Rhythm's defaults filled in. */
export function toJobSpec(dto: CreateJobDto, runner: JobRunner | undefined): JobSpec {
  return {
    schedule: {
      type: 'Cron',
      cron: dto.schedule.cron,
      ...(dto.schedule.timezone ? { timezone: dto.schedule.timezone } : {}),
    },
    env: dto.env ?? {},
    secrets: dto.secrets ?? {},
    container: dto.container ? toContainer(dto.container) : NO_CONTAINER,
    cpus: dto.cpus ?? 0,
    mem: dto.mem ?? 0,
    disk: dto.disk ?? 0,
    cmd: dto.cmd ?? '',
    user: dto.user ?? '',
    shell: dto.shell ?? true,
    arguments: dto.arguments ?? [],
    labels: dto.labels ?? {},
    maxRetries: dto.maxretries ?? 0,
    ...(dto.missedruns ? { missedRuns: toMissedRuns(dto.missedruns) } : {}),
    ...(dto.retrybackoff ? { retryBackoff: toRetryBackoff(dto.retrybackoff) } : {}),
    ...(dto.timeout ? { timeoutSeconds: dto.timeout } : {}),
    ...(dto.pauseafterfailures ? { pauseAfterFailures: dto.pauseafterfailures } : {}),
    ...(runner ? { runner } : {}),
  };
}

function toMissedRuns(dto: MissedRunsDto): MissedRunPolicy {
  return {
    policy: dto.policy,
    ...(dto.startingdeadline ? { startingDeadlineSeconds: dto.startingdeadline } : {}),
    ...(dto.maxcatchup ? { maxCatchUp: dto.maxcatchup } : {}),
  };
}

function toRetryBackoff(dto: RetryBackoffDto): RetryBackoff {
  return { backoffSeconds: dto.backoff, maxBackoffSeconds: dto.maxbackoff };
}

function toContainer(container: NonNullable<CreateJobDto['container']>): JobContainer {
  if (container.docker) {
    return {
      type: 'Docker',
      docker: {
        image: container.docker.image,
        forcePullImage: container.docker.forcepullimage ?? false,
      },
    };
  }
  // Validation guarantees exactly one of docker and mesos.
  return { type: 'Mesos', mesos: { image: container.mesos?.image ?? '' } };
}

/** Null and absent both mean "unchanged". */
export function toJobPatch(dto: UpdateJobDto, runner: JobRunner | undefined): JobPatch {
  const docker = dto.container?.docker;
  const mesos = dto.container?.mesos;
  return {
    schedule: dto.schedule
      ? {
          cron: dto.schedule.cron,
          ...(dto.schedule.timezone ? { timezone: dto.schedule.timezone } : {}),
        }
      : undefined,
    env: dto.env ?? undefined,
    secrets: dto.secrets ?? undefined,
    container: dto.container
      ? {
          docker: docker
            ? {
                image: docker.image ?? undefined,
                forcePullImage: docker.forcepullimage ?? undefined,
              }
            : undefined,
          mesos: mesos ? { image: mesos.image } : undefined,
        }
      : undefined,
    cpus: dto.cpus ?? undefined,
    mem: dto.mem ?? undefined,
    disk: dto.disk ?? undefined,
    cmd: dto.cmd ?? undefined,
    user: dto.user ?? undefined,
    shell: dto.shell ?? undefined,
    arguments: dto.arguments ?? undefined,
    labels: dto.labels ?? undefined,
    maxRetries: dto.maxretries ?? undefined,
    missedRuns: dto.missedruns ? toMissedRuns(dto.missedruns) : undefined,
    retryBackoff: dto.retrybackoff ? toRetryBackoff(dto.retrybackoff) : undefined,
    timeoutSeconds: dto.timeout ?? undefined,
    pauseAfterFailures: dto.pauseafterfailures ?? undefined,
    runner,
  };
}
