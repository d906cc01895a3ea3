import type { JobId } from '@rhythm/jobs';

/** What a scheduling decision depends on besides the job: the time, defaults and id source. */
export interface SchedulingContext {
  readonly now: Date;
  readonly defaultTimezone: string;
  /** The runner that would launch the run (recorded with it). */
  readonly runner: string;
  newTaskId(jobId: JobId): string;
}
