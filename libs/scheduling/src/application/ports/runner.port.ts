import type { JobId, JobSpec } from '@rhythm/jobs';
import type { TaskStatusUpdate } from '../../domain/task-status';

export const COMMAND_RUNNER = Symbol('COMMAND_RUNNER');

export type { TaskState, TaskStatusUpdate } from '../../domain/task-status';
export { TERMINAL_TASK_STATES } from '../../domain/task-status';

/** One run to start: everything a runner needs, nothing it must look up. */
export interface RunLaunch {
  readonly taskId: string;
  readonly jobId: JobId;
  readonly spec: JobSpec;
  /** The occurrence this run belongs to (cron time, or the run-now request time). */
  readonly scheduledAt: Date;
  /** 1 for the first attempt of an occurrence, 2 for its first retry, … */
  readonly attempt: number;
}

export type TaskLogStream = 'stdout' | 'stderr';

export interface TaskLog {
  /** Bytes of the stream before `data` (what was dropped or skipped). */
  readonly offset: number;
  readonly data: string;
  /** Total bytes the task wrote to the stream so far. */
  readonly size: number;
}

/**
 * Runs commands somewhere: a local process, a Mesos task. Progress comes back through the update
 * listener, in order per task; a runner reports every task it accepted until a terminal state.
 */
export interface Runner {
  /** Short name recorded with every run, e.g. `local` or `mesos`. */
  readonly kind: string;

  /** Registers the one listener that receives every status update. */
  onUpdate(listener: (update: TaskStatusUpdate) => void): void;

  /** Starts a run. Resolves once accepted; rejects when it cannot be started at all. */
  launch(run: RunLaunch): Promise<void>;

  /** Asks a run to stop; its end arrives as a Killed update. Unknown tasks are ignored. */
  kill(taskId: string): Promise<void>;

  /**
   * Reports the current state of each task through the listener. A task the runner does not know
   * (for example one started by a process that has since died) is reported Lost.
   */
  reconcile(taskIds: readonly string[]): Promise<void>;

  /** The kept output of a task, or null when the runner has none for it. */
  readLogs(
    taskId: string,
    stream: TaskLogStream,
    range?: { readonly offset?: number; readonly length?: number },
  ): Promise<TaskLog | null>;
}
