import type {
  FrameworkInfo,
  TaskInfo,
  TaskState,
  TaskStatus,
} from '../../infrastructure/wire/mesos-messages';
import type { ScalarResources } from './resources';
import type { SubscriptionStream } from './subscription-stream';

/** What the master knows of frameworks, their tasks and their offers, and framework checks. */

export interface FrameworkRecord {
  id: string;
  /** As last subscribed, with `id` set. */
  info: FrameworkInfo;
  roles: string[];
  suppressedRoles: Set<string>;
  stream: SubscriptionStream | null;
  active: boolean;
  /** Known from before a master failover and not re-subscribed since. */
  recovered: boolean;
  registeredAt: number;
  reregisteredAt: number | null;
  unregisteredAt: number | null;
  failoverTimer: NodeJS.Timeout | null;
  /** Launched tasks not yet acknowledged in a terminal state. */
  tasks: Map<string, MasterTask>;
  completedTasks: MasterTask[];
}

export interface MasterTask {
  info: TaskInfo;
  frameworkId: string;
  agentId: string;
  /** Role of the offer the task was launched from. */
  role: string;
  resources: ScalarResources;
  /** Latest state known from the agent. */
  state: TaskState;
  /** State and uuid of the latest update forwarded to the scheduler. */
  statusUpdateState: TaskState | null;
  statusUpdateUuid: string | null;
  statuses: TaskStatus[];
  /** Resources given back to the allocator (the task reached a terminal state). */
  released: boolean;
  user: string | undefined;
}

export interface OfferRecord {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: ScalarResources;
  createdAt: number;
  timer: NodeJS.Timeout | null;
}

export function newFramework(info: FrameworkInfo): FrameworkRecord {
  return {
    id: info.id?.value ?? '',
    info,
    roles: rolesOf(info),
    suppressedRoles: new Set(),
    stream: null,
    active: false,
    recovered: false,
    registeredAt: Date.now(),
    reregisteredAt: null,
    unregisteredAt: null,
    failoverTimer: null,
    tasks: new Map(),
    completedTasks: [],
  };
}

/** `validateFramework` and the suppressed-roles check of a SUBSCRIBE. */
export function validateFrameworkInfo(
  info: FrameworkInfo,
  suppressedRoles: string[],
  isRemoved: (id: string) => boolean,
): string | null {
  const multiRole = hasCapability(info, 'MULTI_ROLE');
  if (multiRole && info.role !== undefined) {
    return "'FrameworkInfo.role' must not be set when the framework is MULTI_ROLE capable";
  }
  if (!multiRole && (info.roles ?? []).length > 0) {
    return "'FrameworkInfo.roles' must not be set when the framework is not MULTI_ROLE capable";
  }
  const roles = rolesOf(info);
  const duplicates = roles.filter((role, at) => roles.indexOf(role) !== at);
  if (duplicates.length > 0) {
    return `'FrameworkInfo.roles' contains duplicate items: { ${duplicates.join(', ')} }`;
  }
  if (roles.some((role) => role === '')) return 'Empty role name is invalid';
  const id = info.id?.value ?? '';
  if (id !== '' && isRemoved(id)) return 'Framework has been removed';
  const stray = suppressedRoles.find((role) => !roles.includes(role));
  if (stray !== undefined) {
    return `Suppressed role '${stray}' is not contained in the list of roles`;
  }
  return null;
}

export function hasCapability(info: FrameworkInfo, type: string): boolean {
  return (info.capabilities ?? []).some((capability) => capability.type === type);
}

/** `roles` for MULTI_ROLE frameworks, else the single (deprecated) `role`, `*` by default. */
export function rolesOf(info: FrameworkInfo): string[] {
  if (hasCapability(info, 'MULTI_ROLE')) return info.roles ?? [];
  return [info.role ?? '*'];
}
