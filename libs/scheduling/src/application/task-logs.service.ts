import { Inject, Injectable } from '@nestjs/common';
import { JobsError, JobsService, type JobId } from '@rhythm/jobs';
import { COMMAND_RUNNER, type Runner, type TaskLog, type TaskLogStream } from './ports/runner.port';
import { jobIdOfTask } from './task-id';

/** Reads the kept output of a job's runs from the runner that ran them. */
@Injectable()
export class TaskLogsService {
  constructor(
    private readonly jobs: JobsService,
    @Inject(COMMAND_RUNNER) private readonly runner: Runner,
  ) {}

  async read(
    jobId: JobId,
    taskId: string,
    stream: TaskLogStream,
    range: { offset?: number; length?: number },
  ): Promise<TaskLog> {
    await this.jobs.get(jobId);
    const owner = jobIdOfTask(taskId);
    if (
      !owner ||
      owner.group !== jobId.group ||
      owner.project !== jobId.project ||
      owner.id !== jobId.id
    ) {
      throw JobsError.taskNotFound();
    }
    const log = await this.runner.readLogs(taskId, stream, range);
    if (!log) throw JobsError.taskNotFound();
    return log;
  }
}
