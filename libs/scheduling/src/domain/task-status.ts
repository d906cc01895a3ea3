/** Where a task is in its life, as runners report it. The last four are terminal. */
export type TaskState =
  'Staging' | 'Starting' | 'Running' | 'Finished' | 'Failed' | 'Killed' | 'Lost';

export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([
  'Finished',
  'Failed',
  'Killed',
  'Lost',
]);

/** A change of a task's state, as a runner reports it. Optional fields are those it knows. */
export interface TaskStatusUpdate {
  readonly taskId: string;
  readonly state: TaskState;
  readonly at: Date;
  readonly exitCode?: number | null;
  readonly message?: string;
  /** Machine-readable cause, e.g. `REASON_COMMAND_EXECUTOR_FAILED` or `EXIT_CODE`. */
  readonly reason?: string;
  /** Who decided the state, e.g. `SOURCE_EXECUTOR`, `SOURCE_AGENT`, `RUNNER`. */
  readonly source?: string;
  readonly agentId?: string;
  readonly executorId?: string;
  readonly frameworkId?: string;
  readonly executorUrl?: string;
}
