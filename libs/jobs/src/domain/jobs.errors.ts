export enum JobsErrorCode {
  JOB_NOT_FOUND = 'JOB_NOT_FOUND',
  JOB_ALREADY_EXISTS = 'JOB_ALREADY_EXISTS',
  INVALID_JOB = 'INVALID_JOB',
  STORE_UNAVAILABLE = 'STORE_UNAVAILABLE',
  JOB_PAUSED = 'JOB_PAUSED',
  TASK_NOT_FOUND = 'TASK_NOT_FOUND',
  TASK_NOT_RUNNING = 'TASK_NOT_RUNNING',
  /** A write from a leadership term that a newer term has replaced. */
  STALE_FENCE = 'STALE_FENCE',
}

/** Errors of the jobs domain; transports map the code to their own status (HTTP: one exception filter). */
export class JobsError extends Error {
  constructor(
    readonly code: JobsErrorCode,
    readonly details: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(details.join('; '), options);
    this.name = 'JobsError';
  }

  static notFound(): JobsError {
    return new JobsError(JobsErrorCode.JOB_NOT_FOUND, ['Job not found']);
  }

  static alreadyExists(): JobsError {
    return new JobsError(JobsErrorCode.JOB_ALREADY_EXISTS, ['Job already exists']);
  }

  static invalid(details: string[]): JobsError {
    return new JobsError(JobsErrorCode.INVALID_JOB, details);
  }

  static paused(): JobsError {
    return new JobsError(JobsErrorCode.JOB_PAUSED, ['Job is paused']);
  }

  static taskNotFound(): JobsError {
    return new JobsError(JobsErrorCode.TASK_NOT_FOUND, ['Task not found']);
  }

  static taskNotRunning(): JobsError {
    return new JobsError(JobsErrorCode.TASK_NOT_RUNNING, ['Task is not running']);
  }

  static staleFence(epoch: number): JobsError {
    return new JobsError(JobsErrorCode.STALE_FENCE, [`Leadership term ${epoch} is over`]);
  }

  static storeUnavailable(cause: unknown): JobsError {
    return new JobsError(JobsErrorCode.STORE_UNAVAILABLE, ['Job store unavailable'], { cause });
  }
}
