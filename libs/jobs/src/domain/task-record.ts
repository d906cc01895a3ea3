/** One finished run of a job, with the fields of the original Rhythm's task history. */
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
}
