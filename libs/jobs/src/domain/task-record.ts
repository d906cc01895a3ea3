import type { RunTrigger } from './job';

/** How a run ended. */
export type TaskOutcome = 'Finished' | 'Failed' | 'Killed' | 'Lost' | 'Skipped';

/**
 * One finished (or skipped) run of a job: the fields of the original Rhythm's task history, then
 * the ones this Rhythm adds.
 */
export interface TaskRecord {
  readonly start: Date;
  readonly end: Date;
  readonly taskId: string;
  readonly executorId: string;
  readonly agentId: string;
  readonly frameworkId: string;
  readonly executorUrl: string;
  /** Empty for successful runs. */
  readonly message: string;
  readonly reason: string;
  readonly source: string;
  /** The occurrence the run belonged to. */
  readonly scheduledAt?: Date;
  readonly trigger?: RunTrigger;
  readonly attempt?: number;
  readonly state?: TaskOutcome;
  readonly exitCode?: number | null;
  readonly runner?: string;
}
