import { Inject, Injectable } from '@nestjs/common';
import { JobsError, JobsService, type JobId } from '@rhythm/jobs';
import {
  RUNNER_REGISTRY,
  type RunnerRegistry,
  type TaskLog,
  type TaskLogStream,
} from './ports/runner.port';
import { jobIdOfTask } from './task-id';

/** Reads the kept output of a job's runs from the runner that ran them. */
@Injectable()
export class TaskLogsService {
  constructor(
    private readonly jobs: JobsService,
    @Inject(RUNNER_REGISTRY) private readonly runners: RunnerRegistry,
  ) {}

  async read(
    jobId: JobId,
    taskId: string,
    stream: TaskLogStream,
    range: { offset?: number; length?: number },
  ): Promise<TaskLog> {
    const job = await this.jobs.get(jobId);
    const owner = jobIdOfTask(taskId);
    if (
      !owner ||
      owner.group !== jobId.group ||
      owner.project !== jobId.project ||
      owner.id !== jobId.id
    ) {
      throw JobsError.taskNotFound();
    }
    // The run's own runner first: the one running it, else the job's; then any that kept output.
    const first = [
      job.runtime.run?.taskId === taskId ? job.runtime.run.runner : undefined,
      job.runner?.kind,
    ];
    const kinds = new Set([
      ...first.filter((kind): kind is string => kind !== undefined),
      this.runners.commandRunner().kind,
      ...this.runners.all().map((runner) => runner.kind),
    ]);
    for (const kind of kinds) {
      const log = await this.runners.get(kind)?.readLogs(taskId, stream, range);
      if (log) return log;
    }
    throw JobsError.taskNotFound();
  }
}
