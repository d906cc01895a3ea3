import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  FrameworkInfo,
  GetAgentsResponse,
  GetFrameworksResponse,
  GetTasksResponse,
  OperatorAgent,
  OperatorFramework,
  OperatorResponse,
  Resource,
  Task,
  TimeInfo,
} from '../../infrastructure/wire/mesos-messages';
import type { SimulatedAgent } from './agent';
import { MASTER_CALL } from './call-schemas';
import { validateMasterCall } from './call-validation';
import {
  checkAccept,
  methodNotAllowed,
  parseCall,
  readBody,
  sendFailure,
  sendJson,
  sendText,
} from './http-io';
import { leadershipFailure, type SimulatedMaster } from './master';
import type { FrameworkRecord, MasterTask } from './framework-state';
import type { MasterCore } from './master-core';
import { offerJson } from './offer-json';
import { MESOS_VERSION } from './options';
import { isJsonObject } from './proto-json';
import { ScalarResources } from './resources';

/**
 * The master's operator API (`POST /api/v1`): the read calls a framework or operator tool makes,
 * answered with `master.proto` shapes. Empty repeated fields are left out, as the master's JSON
 * writer does.
 */

export const OPERATOR_PATHS: ReadonlySet<string> = new Set(['/api/v1', '/master/api/v1']);

export async function handleOperatorRequest(
  core: MasterCore,
  master: SimulatedMaster,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req);
  const notLeading = leadershipFailure(master, core.leadingMaster, req.url);
  if (notLeading !== null) return sendFailure(res, notLeading);
  if (req.method !== 'POST') return sendFailure(res, methodNotAllowed(req.method));
  const parsed = parseCall(req, body, MASTER_CALL, 'master::Call', validateMasterCall);
  if (!parsed.ok) return sendFailure(res, parsed.failure);
  const notAcceptable = checkAccept(req);
  if (notAcceptable !== null) return sendFailure(res, notAcceptable);

  const type = String(parsed.call['type']);
  const respond = (response: OperatorResponse) => sendJson(res, 200, response);
  switch (type) {
    case 'GET_HEALTH':
      return respond({ type, get_health: { healthy: true } });
    case 'GET_VERSION':
      return respond({
        type,
        get_version: { version_info: { version: MESOS_VERSION, git_tag: MESOS_VERSION } },
      });
    case 'GET_MASTER':
      return respond({
        type,
        get_master: {
          master_info: master.info(),
          start_time: master.startTime / 1000,
          elected_time: (master.electedTime ?? master.startTime) / 1000,
        },
      });
    case 'GET_AGENTS':
      return respond({ type, get_agents: agentsView(core) });
    case 'GET_FRAMEWORKS':
      return respond({ type, get_frameworks: frameworksView(core) });
    case 'GET_TASKS':
      return respond({ type, get_tasks: tasksView(core) });
    case 'GET_EXECUTORS':
      // Command executors are not listed by the master; there are no custom executors here.
      return sendJson(res, 200, { type, get_executors: {} });
    case 'GET_STATE':
      return sendJson(res, 200, {
        type,
        get_state: {
          get_tasks: tasksView(core),
          get_executors: {},
          get_frameworks: frameworksView(core),
          get_agents: agentsView(core),
        },
      });
    case 'TEARDOWN': {
      const teardown = parsed.call['teardown'];
      const id =
        isJsonObject(teardown) && isJsonObject(teardown['framework_id'])
          ? String(teardown['framework_id']['value'])
          : '';
      const framework = core.framework(id);
      if (framework === undefined) {
        return sendText(res, 400, 'No framework found with specified ID');
      }
      core.removeFramework(framework);
      return sendText(res, 200);
    }
    case 'READ_FILE':
      // The simulated master attaches no files of its own (a real one serves its log).
      return sendText(res, 404);
    case 'UNKNOWN':
      return sendText(res, 501);
    default:
      return sendText(res, 501, `The Mesos simulator does not implement ${type}`);
  }
}

function agentsView(core: MasterCore): GetAgentsResponse {
  const agents = [...core.agents.values()].map((agent) => agentView(core, agent));
  return agents.length > 0 ? { agents } : {};
}

function agentView(core: MasterCore, agent: SimulatedAgent): OperatorAgent {
  const view: OperatorAgent = {
    agent_info: agent.info(),
    active: true,
    deactivated: false,
    version: MESOS_VERSION,
    pid: agent.pid,
    registered_time: timeInfo(agent.registeredAt),
  };
  if (agent.reregisteredAt !== null) view.reregistered_time = timeInfo(agent.reregisteredAt);
  view.total_resources = agent.total.toProto({ refinement: false });
  const allocated = byRole(core, (framework) =>
    [...framework.tasks.values()].filter((task) => task.agentId === agent.id && !task.released),
  );
  if (allocated.length > 0) view.allocated_resources = allocated;
  const offered = offeredByRole(core, (offerAgent) => offerAgent === agent.id);
  if (offered.length > 0) view.offered_resources = offered;
  view.capabilities = agent.capabilities.map((type) => ({
    type: type as NonNullable<OperatorAgent['capabilities']>[number]['type'],
  }));
  return view;
}

function frameworksView(core: MasterCore): GetFrameworksResponse {
  const view: GetFrameworksResponse = {};
  const frameworks = [...core.frameworks.values()].map((f) => frameworkView(core, f));
  if (frameworks.length > 0) view.frameworks = frameworks;
  const completed = core.completedFrameworks.map((f) => frameworkView(core, f));
  if (completed.length > 0) view.completed_frameworks = completed;
  return view;
}

function frameworkView(core: MasterCore, framework: FrameworkRecord): OperatorFramework {
  const view: OperatorFramework = {
    framework_info: frameworkInfoView(framework.info),
    active: framework.active,
    connected: framework.stream !== null,
    recovered: framework.recovered,
    registered_time: timeInfo(framework.registeredAt),
  };
  if (framework.reregisteredAt !== null) {
    view.reregistered_time = timeInfo(framework.reregisteredAt);
  }
  if (framework.unregisteredAt !== null) {
    view.unregistered_time = timeInfo(framework.unregisteredAt);
  }
  const offers = [...core.offers.values()]
    .filter((offer) => offer.frameworkId === framework.id)
    .map((offer) => offerJson(offer, framework, core.agents.get(offer.agentId)));
  if (offers.length > 0) view.offers = offers;
  const allocated = byRole(core, (f) =>
    f === framework ? [...f.tasks.values()].filter((task) => !task.released) : [],
  );
  if (allocated.length > 0) view.allocated_resources = allocated;
  const offered = offeredByRole(core, () => true, framework.id);
  if (offered.length > 0) view.offered_resources = offered;
  return view;
}

/** `FrameworkInfo` in `.proto` order, with the fields that have a declared default written out. */
function frameworkInfoView(info: FrameworkInfo): FrameworkInfo {
  const view: FrameworkInfo = { user: info.user, name: info.name };
  if (info.id !== undefined) view.id = info.id;
  view.failover_timeout = info.failover_timeout ?? 0;
  view.checkpoint = info.checkpoint ?? false;
  if (info.role !== undefined) view.role = info.role;
  if (info.roles !== undefined && info.roles.length > 0) view.roles = info.roles;
  if (info.hostname !== undefined) view.hostname = info.hostname;
  if (info.principal !== undefined) view.principal = info.principal;
  if (info.webui_url !== undefined) view.webui_url = info.webui_url;
  if (info.capabilities !== undefined && info.capabilities.length > 0) {
    view.capabilities = info.capabilities;
  }
  if (info.labels !== undefined) view.labels = info.labels;
  return view;
}

function tasksView(core: MasterCore): GetTasksResponse {
  const tasks: Task[] = [];
  const completed: Task[] = [];
  for (const framework of core.frameworks.values()) {
    for (const task of framework.tasks.values()) tasks.push(taskView(task));
    for (const task of framework.completedTasks) completed.push(taskView(task));
  }
  for (const framework of core.completedFrameworks) {
    for (const task of framework.completedTasks) completed.push(taskView(task));
  }
  const view: GetTasksResponse = {};
  if (tasks.length > 0) view.tasks = tasks;
  if (completed.length > 0) view.completed_tasks = completed;
  return view;
}

/** `Task` as `protobuf::createTask` builds it (no executor id for command tasks). */
function taskView(task: MasterTask): Task {
  const view: Task = {
    name: task.info.name,
    task_id: task.info.task_id,
    framework_id: { value: task.frameworkId },
    agent_id: { value: task.agentId },
    state: task.state,
    resources: task.resources.toProto({ allocationRole: task.role, refinement: false }),
  };
  if (task.statuses.length > 0) view.statuses = task.statuses;
  if (task.statusUpdateState !== null && task.statusUpdateUuid !== null) {
    view.status_update_state = task.statusUpdateState;
    view.status_update_uuid = task.statusUpdateUuid;
  }
  if (task.info.labels !== undefined) view.labels = task.info.labels;
  if (task.info.container !== undefined) view.container = task.info.container;
  if (task.user !== undefined) view.user = task.user;
  return view;
}

/** Resources of the given tasks, summed per allocation role. */
function byRole(
  core: MasterCore,
  select: (framework: FrameworkRecord) => MasterTask[],
): Resource[] {
  const sums = new Map<string, ScalarResources>();
  for (const framework of core.frameworks.values()) {
    for (const task of select(framework)) {
      sums.set(task.role, (sums.get(task.role) ?? ScalarResources.empty()).plus(task.resources));
    }
  }
  return renderByRole(sums);
}

function offeredByRole(
  core: MasterCore,
  onAgent: (agentId: string) => boolean,
  frameworkId?: string,
): Resource[] {
  const sums = new Map<string, ScalarResources>();
  for (const offer of core.offers.values()) {
    if (!onAgent(offer.agentId)) continue;
    if (frameworkId !== undefined && offer.frameworkId !== frameworkId) continue;
    sums.set(offer.role, (sums.get(offer.role) ?? ScalarResources.empty()).plus(offer.resources));
  }
  return renderByRole(sums);
}

function renderByRole(sums: Map<string, ScalarResources>): Resource[] {
  return [...sums.entries()].flatMap(([role, resources]) =>
    resources.toProto({ allocationRole: role, refinement: false }),
  );
}

function timeInfo(epochMs: number): TimeInfo {
  return { nanoseconds: epochMs * 1_000_000 };
}
