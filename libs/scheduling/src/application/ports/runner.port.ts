import type { JobId, JobSpec } from '@rhythm/jobs';
import type { TaskStatusUpdate } from '../../domain/task-status';

/** The runner of jobs that name none: Mesos when a master is configured, otherwise local. */
export const COMMAND_RUNNER = Symbol('COMMAND_RUNNER');
/** Every runner of this instance, by kind. */
export const RUNNER_REGISTRY = Symbol('RUNNER_REGISTRY');

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
  /** The job's runner options (without `kind`), validated by the runner; {} for command jobs. */
  readonly options: Readonly<Record<string, unknown>>;
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

/** The runners this instance has: the command runner and every registered one. */
export interface RunnerRegistry {
  /** Runs jobs that name no runner. */
  commandRunner(): Runner;
  /** The runner of a kind, or undefined when this instance has none. */
  get(kind: string): Runner | undefined;
  /** Every runner, the command runner included, each once. */
  all(): readonly Runner[];
  /**
   * Checks a job's runner options against the schema the runner declares; returns one message per
   * problem, each naming its field (e.g. `runner.instanceIds: must not be empty`), and the options
   * with their keys spelled as the runner declares them (request keys match case-insensitively).
   */
  validate(kind: string, options: Readonly<Record<string, unknown>>): RunnerOptionsCheck;
}

export type RunnerOptionsCheck =
  | { readonly ok: true; readonly options: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: readonly string[] };
