import type { TaskInfo, TaskStatus } from '../../infrastructure/wire/mesos-messages';
import { readRequestedResources, type ScalarResources } from './resources';

/**
 * The master's checks of one `TaskInfo` in an accepted offer (`validation::task::validate`, in its
 * order), and the shape of the updates the master itself generates.
 */

export interface LaunchContext {
  /** Task ids the framework has on the master (launched and not yet acknowledged terminal). */
  knownTaskIds: ReadonlySet<string> | { has(taskId: string): boolean };
  agentId: string;
  /** What is left of the accepted offers. */
  offered: ScalarResources;
  /** Role the offers were allocated to. */
  role: string;
}

export type LaunchCheck = { ok: true; resources: ScalarResources } | { ok: false; error: string };

/** Linux `NAME_MAX`, the longest id Mesos accepts (ids become directory names). */
const NAME_MAX = 255;

export function checkTask(task: TaskInfo, context: LaunchContext): LaunchCheck {
  const taskId = task.task_id.value;
  const idError = checkId(taskId);
  if (idError !== null) return { ok: false, error: idError };
  if (context.knownTaskIds.has(taskId)) {
    return { ok: false, error: `Task has duplicate ID: ${taskId}` };
  }
  if (task.agent_id.value !== context.agentId) {
    return {
      ok: false,
      error: `Task uses invalid agent ${task.agent_id.value} while agent ${context.agentId} is expected`,
    };
  }
  const grace = task.kill_policy?.grace_period?.nanoseconds;
  if (grace !== undefined && grace < 0) {
    return { ok: false, error: "Task's 'kill_policy.grace_period' must be non-negative" };
  }
  const resources = task.resources ?? [];
  if (resources.length === 0) return { ok: false, error: 'Task uses no resources' };
  if ((task.executor === undefined) === (task.command === undefined)) {
    return {
      ok: false,
      error: 'Task should have at least one (but not both) of CommandInfo or ExecutorInfo present',
    };
  }
  const requested = readRequestedResources(resources);
  const foreignRole = [...requested.allocationRoles].some((role) => role !== context.role);
  if (
    foreignRole ||
    requested.unsupported.length > 0 ||
    !context.offered.contains(requested.scalars)
  ) {
    const asked = [
      requested.scalars.describe(context.role),
      ...requested.unsupported.map((name) => `${name}(allocated: ${context.role})`),
    ]
      .filter((part) => part.length > 0)
      .join('; ');
    return {
      ok: false,
      error:
        `Total resources ${asked} required by task and its executor is more than available ` +
        context.offered.describe(context.role),
    };
  }
  return { ok: true, resources: requested.scalars };
}

/** `common::validation::validateID`. */
function checkId(id: string): string | null {
  if (id.length === 0) return 'ID must not be empty';
  if (id.length > NAME_MAX) return `ID must not be greater than ${NAME_MAX} characters`;
  if (id === '.' || id === '..') return `'${id}' is disallowed`;
  // Control characters and path separators: ids are used as directory names.
  const invalid = [...id].some((c) => c === '/' || c === '\\' || c < ' ' || c === '\u007f');
  if (invalid) return `'${id}' contains invalid characters`;
  return null;
}

export interface MasterStatusFields {
  taskId: string;
  state: TaskStatus['state'];
  message: string;
  reason: NonNullable<TaskStatus['reason']>;
  agentId?: string;
  executorId?: string;
  containerStatus?: TaskStatus['container_status'];
}

/**
 * A status the master writes itself (`protobuf::createStatusUpdate` with source SOURCE_MASTER):
 * no uuid, so it is not retried and must not be acknowledged.
 */
export function masterStatus(fields: MasterStatusFields): TaskStatus {
  const status: TaskStatus = {
    task_id: { value: fields.taskId },
    state: fields.state,
    message: fields.message,
    source: 'SOURCE_MASTER',
    reason: fields.reason,
  };
  if (fields.agentId !== undefined) status.agent_id = { value: fields.agentId };
  if (fields.executorId !== undefined) status.executor_id = { value: fields.executorId };
  status.timestamp = Date.now() / 1000;
  if (fields.containerStatus !== undefined) status.container_status = fields.containerStatus;
  return status;
}
