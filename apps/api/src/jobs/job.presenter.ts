import type { Job, JobContainer, TaskRecord } from '@rhythm/jobs';
import type { ContainerResponseDto, JobResponseDto, TaskResponseDto } from './dto/job-response.dto';

/** Go's zero time, which the original Rhythm shows for a job that never started. */
const NEVER = '0001-01-01T00:00:00Z';

/** Field order follows the original's Go structs, so answers read the same side by side. */
export function presentJob(job: Job): JobResponseDto {
  return {
    Group: job.jobId.group,
    Project: job.jobId.project,
    ID: job.jobId.id,
    Schedule: { Type: 'Cron', Cron: job.schedule.cron },
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
    State: job.runtime.state,
    LastStart: job.runtime.lastStart?.toISOString() ?? NEVER,
    CurrentTaskID: job.runtime.currentTaskId,
    CurrentAgentID: job.runtime.currentAgentId,
    Retries: job.runtime.retries,
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
  };
}
