import type { TaskState, TaskStatusUpdate } from '@rhythm/scheduling';
import type { TaskState as MesosTaskState, TaskStatus } from '../wire/mesos-messages';

/**
 * Every Mesos task state has a Rhythm state, so no update can crash the scheduler (the original
 * panicked on states it did not know). TASK_KILLING is still running; every state after which the
 * task can no longer finish (lost, dropped, unreachable, gone, unknown) ends the run as Lost.
 */
const STATES: Readonly<Record<MesosTaskState, TaskState>> = {
  TASK_STAGING: 'Staging',
  TASK_STARTING: 'Starting',
  TASK_RUNNING: 'Running',
  TASK_KILLING: 'Running',
  TASK_FINISHED: 'Finished',
  TASK_FAILED: 'Failed',
  TASK_ERROR: 'Failed',
  TASK_KILLED: 'Killed',
  TASK_LOST: 'Lost',
  TASK_DROPPED: 'Lost',
  TASK_UNREACHABLE: 'Lost',
  TASK_GONE: 'Lost',
  TASK_GONE_BY_OPERATOR: 'Lost',
  TASK_UNKNOWN: 'Lost',
};

export interface StatusContext {
  readonly frameworkId: string;
  /** Base URL of the leading master, for the ExecutorURL of the task record. */
  readonly masterUrl: string;
  readonly now: Date;
}

export function rhythmStateOf(state: string): TaskState {
  return STATES[state as MesosTaskState] ?? 'Lost';
}

export function toTaskStatusUpdate(status: TaskStatus, context: StatusContext): TaskStatusUpdate {
  const taskId = status.task_id.value;
  const state = rhythmStateOf(status.state);
  const agentId = status.agent_id?.value;
  const executorId = status.executor_id?.value ?? taskId;
  const exitCode = state === 'Finished' ? 0 : exitCodeOf(status.message);
  return {
    taskId,
    state,
    at: status.timestamp === undefined ? context.now : new Date(status.timestamp * 1000),
    ...(exitCode === undefined ? {} : { exitCode }),
    ...(state === 'Finished' ? {} : { message: status.message ?? status.state }),
    // As the original: a failure without a reason or source is the executor's, told by the master.
    ...(state === 'Finished'
      ? {}
      : {
          reason: status.reason ?? 'REASON_COMMAND_EXECUTOR_FAILED',
          source: status.source ?? 'SOURCE_MASTER',
        }),
    ...(agentId === undefined ? {} : { agentId }),
    executorId,
    frameworkId: context.frameworkId,
    ...(agentId === undefined
      ? {}
      : {
          executorUrl: `${context.masterUrl}/#/agents/${agentId}/frameworks/${context.frameworkId}/executors/${executorId}`,
        }),
  };
}

/** The command executor reports `Command exited with status N`; Mesos has no exit-code field. */
function exitCodeOf(message: string | undefined): number | undefined {
  const match = /exited with status (\d+)/.exec(message ?? '');
  return match ? Number(match[1]) : undefined;
}
