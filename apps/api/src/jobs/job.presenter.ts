import type { Job, JobContainer, PendingRun, TaskRecord } from '@rhythm/jobs';
import type { TaskLog, TaskLogStream } from '@rhythm/scheduling';
import type {
  ContainerResponseDto,
  JobResponseDto,
  PendingRunResponseDto,
  UpcomingScheduleResponseDto,
  TaskLogResponseDto,
  TaskResponseDto,
} from './dto/job-response.dto';
import { zonedTime } from './zoned-time';

/** Go's zero time, which the original Rhythm shows for a time that never happened. */
const NEVER = '0001-01-01T00:00:00Z';

/**
 * Field order follows the original's Go structs, so answers read the same side by side; fields
 * this Rhythm adds come after them, and optional ones only when set.
 */
export function presentJob(job: Job): JobResponseDto {
  const { runtime } = job;
  return {
    Group: job.jobId.group,
    Project: job.jobId.project,
    ID: job.jobId.id,
    Schedule: {
      Type: 'Cron',
      Cron: job.schedule.cron,
      ...(job.schedule.timezone === undefined ? {} : { Timezone: job.schedule.timezone }),
    },
    Env: { ...job.env },
    Secrets: { ...job.secrets },
    Container: presentContainer(job.container),
    CPUs: job.cpus,
    Mem: job.mem,
    Disk: job.disk,
    Cmd: job.cmd,
    User: job.user,
    Shell: job.shell,
    Arguments: [...job.arguments],
    Labels: { ...job.labels },
    MaxRetries: job.maxRetries,
    State: runtime.state,
    LastStart: runtime.lastStart?.toISOString() ?? NEVER,
    CurrentTaskID: runtime.currentTaskId,
    CurrentAgentID: runtime.currentAgentId,
    Retries: runtime.retries,
    NextStart: runtime.nextFireAt?.toISOString() ?? NEVER,
    ...(job.missedRuns && {
      MissedRuns: {
        Policy: job.missedRuns.policy,
        ...(job.missedRuns.startingDeadlineSeconds !== undefined && {
          StartingDeadline: job.missedRuns.startingDeadlineSeconds,
        }),
        ...(job.missedRuns.maxCatchUp !== undefined && { MaxCatchUp: job.missedRuns.maxCatchUp }),
      },
    }),
    ...(job.retryBackoff && {
      RetryBackoff: {
        Backoff: job.retryBackoff.backoffSeconds,
        MaxBackoff: job.retryBackoff.maxBackoffSeconds,
      },
    }),
    ...(job.timeoutSeconds !== undefined && { Timeout: job.timeoutSeconds }),
    ...(job.pauseAfterFailures !== undefined && { PauseAfterFailures: job.pauseAfterFailures }),
    ...(runtime.consecutiveFailures > 0 && { ConsecutiveFailures: runtime.consecutiveFailures }),
    ...(job.runner && { Runner: { Kind: job.runner.kind, ...job.runner.options } }),
    ...(runtime.paused && {
      Paused: {
        Since: runtime.paused.since.toISOString(),
        ...(runtime.paused.until && { Until: runtime.paused.until.toISOString() }),
      },
    }),
  };
}

function presentContainer(container: JobContainer): ContainerResponseDto {
  if (container.type === 'Docker') {
    return {
      Type: 'Docker',
      Docker: { Image: container.docker.image, ForcePullImage: container.docker.forcePullImage },
    };
  }
  return { Type: 'Mesos', Mesos: { Image: container.mesos.image } };
}

export function presentTask(task: TaskRecord): TaskResponseDto {
  return {
    Start: task.start.toISOString(),
    End: task.end.toISOString(),
    TaskID: task.taskId,
    ExecutorID: task.executorId,
    AgentID: task.agentId,
    FrameworkID: task.frameworkId,
    ExecutorURL: task.executorUrl,
    Message: task.message,
    Reason: task.reason,
    Source: task.source,
    ...(task.scheduledAt && { ScheduledAt: task.scheduledAt.toISOString() }),
    ...(task.trigger && { Trigger: task.trigger }),
    ...(task.attempt !== undefined && { Attempt: task.attempt }),
    ...(task.state && { State: task.state }),
    ...(task.exitCode !== undefined && { ExitCode: task.exitCode }),
    ...(task.runner !== undefined && { Runner: task.runner }),
  };
}

export function presentPendingRun(run: PendingRun): PendingRunResponseDto {
  return {
    Group: run.jobId.group,
    Project: run.jobId.project,
    ID: run.jobId.id,
    Trigger: run.trigger,
    ScheduledAt: run.scheduledAt.toISOString(),
    DueAt: run.dueAt.toISOString(),
    Attempt: run.attempt,
  };
}

export function presentTaskLog(stream: TaskLogStream, log: TaskLog): TaskLogResponseDto {
  return { Stream: stream, Offset: log.offset, Size: log.size, Data: log.data };
}

export function presentSchedule(
  job: Job,
  timezone: string,
  times: readonly Date[],
): UpcomingScheduleResponseDto {
  return {
    Cron: job.schedule.cron,
    Timezone: timezone,
    Paused: job.runtime.paused !== null,
    NextStarts: times.map((time) => ({
      Time: time.toISOString(),
      Local: zonedTime(time, timezone),
    })),
  };
}
