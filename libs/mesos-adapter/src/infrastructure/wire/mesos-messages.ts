/**
 * Hand-written types for the Mesos v1 HTTP API JSON encoding (package `mesos.v1`), covering the
 * subset Rhythm uses. The master reads and writes JSON with the `.proto` field names (snake_case),
 * enums as their names, int64/uint64 as JSON numbers and `bytes` as base64 strings; it ignores keys
 * it does not know, so these types list only what we send or read. Optional proto fields are
 * optional here: the master omits unset fields.
 *
 * Sources: `mesos.proto`, `scheduler.proto`, `master.proto`, `agent.proto` (Mesos 1.11).
 */

/** A proto `bytes` field in JSON: base64 text. */
export type Base64 = string;

// ---------------------------------------------------------------------------------------------
// Identifiers

export interface FrameworkID {
  value: string;
}
export interface AgentID {
  value: string;
}
export interface OfferID {
  value: string;
}
export interface TaskID {
  value: string;
}
export interface ExecutorID {
  value: string;
}
export interface ContainerID {
  value: string;
  parent?: ContainerID;
}

// ---------------------------------------------------------------------------------------------
// Common values

export interface Label {
  key: string;
  value?: string;
}

export interface Labels {
  labels?: Label[];
}

export interface Address {
  hostname?: string;
  ip?: string;
  port: number;
}

export interface URL {
  scheme: string;
  address: Address;
  path?: string;
  query?: { key: string; value?: string }[];
  fragment?: string;
}

export interface TimeInfo {
  nanoseconds: number;
}

export interface DurationInfo {
  nanoseconds: number;
}

export interface DomainInfo {
  fault_domain?: {
    region: { name: string };
    zone: { name: string };
  };
}

export type ValueType = 'SCALAR' | 'RANGES' | 'SET' | 'TEXT';

export interface ValueScalar {
  value: number;
}

export interface ValueRange {
  begin: number;
  end: number;
}

export interface ValueRanges {
  range?: ValueRange[];
}

export interface ValueSet {
  item?: string[];
}

export interface ValueText {
  value: string;
}

export interface Attribute {
  name: string;
  type: ValueType;
  scalar?: ValueScalar;
  ranges?: ValueRanges;
  set?: ValueSet;
  text?: ValueText;
}

export interface Filters {
  /** Master default when absent: 5 s. */
  refuse_seconds?: number;
}

// ---------------------------------------------------------------------------------------------
// Framework, master and agent descriptions

export type FrameworkCapabilityType =
  | 'UNKNOWN'
  | 'REVOCABLE_RESOURCES'
  | 'TASK_KILLING_STATE'
  | 'GPU_RESOURCES'
  | 'SHARED_RESOURCES'
  | 'PARTITION_AWARE'
  | 'MULTI_ROLE'
  | 'RESERVATION_REFINEMENT'
  | 'REGION_AWARE';

export interface FrameworkInfo {
  user: string;
  name: string;
  /** Set only when re-subscribing an existing framework; never with an empty value. */
  id?: FrameworkID;
  failover_timeout?: number;
  checkpoint?: boolean;
  /** Deprecated single role; use `roles` with the MULTI_ROLE capability. */
  role?: string;
  roles?: string[];
  hostname?: string;
  principal?: string;
  webui_url?: string;
  capabilities?: { type: FrameworkCapabilityType }[];
  labels?: Labels;
}

export type MasterCapabilityType = 'UNKNOWN' | 'AGENT_UPDATE' | 'AGENT_DRAINING' | 'QUOTA_V2';

export interface MasterInfo {
  id: string;
  /** IPv4 address packed into a uint32 in network byte order. */
  ip: number;
  port: number;
  pid?: string;
  hostname?: string;
  version?: string;
  address?: Address;
  domain?: DomainInfo;
  capabilities?: { type: MasterCapabilityType }[];
}

export type AgentCapabilityType =
  | 'UNKNOWN'
  | 'MULTI_ROLE'
  | 'HIERARCHICAL_ROLE'
  | 'RESERVATION_REFINEMENT'
  | 'RESOURCE_PROVIDER'
  | 'RESIZE_VOLUME'
  | 'AGENT_OPERATION_FEEDBACK'
  | 'AGENT_DRAINING'
  | 'TASK_RESOURCE_LIMITS';

export interface AgentInfo {
  hostname: string;
  /** Master default when absent: 5051. */
  port?: number;
  resources?: Resource[];
  attributes?: Attribute[];
  id?: AgentID;
  domain?: DomainInfo;
}

// ---------------------------------------------------------------------------------------------
// Resources and offers

export type ReservationType = 'UNKNOWN' | 'STATIC' | 'DYNAMIC';

export interface ReservationInfo {
  type?: ReservationType;
  role?: string;
  principal?: string;
  labels?: Labels;
}

export interface AllocationInfo {
  role?: string;
}

export interface Resource {
  name: string;
  type: ValueType;
  scalar?: ValueScalar;
  ranges?: ValueRanges;
  set?: ValueSet;
  /** Deprecated (pre-reservation-refinement); `*` means unreserved. */
  role?: string;
  allocation_info?: AllocationInfo;
  /** Deprecated single reservation. */
  reservation?: ReservationInfo;
  /** Reservation stack, innermost last; empty or absent means unreserved. */
  reservations?: ReservationInfo[];
  revocable?: Record<string, never>;
  shared?: Record<string, never>;
}

export interface Offer {
  id: OfferID;
  framework_id: FrameworkID;
  agent_id: AgentID;
  hostname: string;
  url?: URL;
  domain?: DomainInfo;
  resources?: Resource[];
  attributes?: Attribute[];
  executor_ids?: ExecutorID[];
  allocation_info?: AllocationInfo;
}

export type OfferOperationType =
  | 'UNKNOWN'
  | 'LAUNCH'
  | 'LAUNCH_GROUP'
  | 'RESERVE'
  | 'UNRESERVE'
  | 'CREATE'
  | 'DESTROY'
  | 'GROW_VOLUME'
  | 'SHRINK_VOLUME'
  | 'CREATE_DISK'
  | 'DESTROY_DISK';

/** `Offer.Operation`; Rhythm only launches tasks. */
export interface OfferOperation {
  type: OfferOperationType;
  launch?: { task_infos: TaskInfo[] };
  launch_group?: { executor: ExecutorInfo; task_group: { tasks?: TaskInfo[] } };
}

// ---------------------------------------------------------------------------------------------
// Tasks

export type EnvironmentVariableType = 'UNKNOWN' | 'VALUE' | 'SECRET';

export interface EnvironmentVariable {
  name: string;
  /** Master default when absent: VALUE. */
  type?: EnvironmentVariableType;
  value?: string;
}

export interface Environment {
  variables?: EnvironmentVariable[];
}

export interface CommandURI {
  value: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  output_file?: string;
}

export interface CommandInfo {
  uris?: CommandURI[];
  environment?: Environment;
  /** Master default when absent: true (run `value` through `/bin/sh -c`). */
  shell?: boolean;
  value?: string;
  arguments?: string[];
  /** Overrides the framework user; leave unset rather than empty. */
  user?: string;
}

export type ContainerType = 'DOCKER' | 'MESOS';
export type DockerNetwork = 'HOST' | 'BRIDGE' | 'NONE' | 'USER';
export type ImageType = 'APPC' | 'DOCKER';

export interface DockerInfo {
  image: string;
  network?: DockerNetwork;
  privileged?: boolean;
  force_pull_image?: boolean;
  parameters?: { key: string; value: string }[];
}

export interface Image {
  type: ImageType;
  appc?: { name: string; id?: string; labels?: Labels };
  docker?: { name: string };
  cached?: boolean;
}

export interface ContainerInfo {
  type: ContainerType;
  hostname?: string;
  /** Docker containerizer only. */
  docker?: DockerInfo;
  /** Mesos (universal) containerizer: the image belongs here, not in `docker`. */
  mesos?: { image?: Image };
}

export interface KillPolicy {
  grace_period?: DurationInfo;
}

/** A custom (or default) executor; command tasks have none. */
export interface ExecutorInfo {
  type?: 'UNKNOWN' | 'DEFAULT' | 'CUSTOM';
  executor_id: ExecutorID;
  framework_id?: FrameworkID;
  command?: CommandInfo;
  container?: ContainerInfo;
  resources?: Resource[];
  name?: string;
}

export interface TaskInfo {
  name: string;
  task_id: TaskID;
  agent_id: AgentID;
  resources?: Resource[];
  executor?: ExecutorInfo;
  command?: CommandInfo;
  container?: ContainerInfo;
  kill_policy?: KillPolicy;
  data?: Base64;
  labels?: Labels;
  max_completion_time?: DurationInfo;
}

export type TaskState =
  | 'TASK_STAGING'
  | 'TASK_STARTING'
  | 'TASK_RUNNING'
  | 'TASK_KILLING'
  | 'TASK_FINISHED'
  | 'TASK_FAILED'
  | 'TASK_KILLED'
  | 'TASK_ERROR'
  | 'TASK_LOST'
  | 'TASK_DROPPED'
  | 'TASK_UNREACHABLE'
  | 'TASK_GONE'
  | 'TASK_GONE_BY_OPERATOR'
  | 'TASK_UNKNOWN';

export const TASK_STATES: readonly TaskState[] = [
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_UNREACHABLE',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
  'TASK_UNKNOWN',
];

export type TaskStatusSource = 'SOURCE_MASTER' | 'SOURCE_AGENT' | 'SOURCE_EXECUTOR';

export type TaskStatusReason =
  | 'REASON_COMMAND_EXECUTOR_FAILED'
  | 'REASON_CONTAINER_LAUNCH_FAILED'
  | 'REASON_CONTAINER_LIMITATION'
  | 'REASON_CONTAINER_LIMITATION_DISK'
  | 'REASON_CONTAINER_LIMITATION_MEMORY'
  | 'REASON_CONTAINER_PREEMPTED'
  | 'REASON_CONTAINER_UPDATE_FAILED'
  | 'REASON_MAX_COMPLETION_TIME_REACHED'
  | 'REASON_EXECUTOR_REGISTRATION_TIMEOUT'
  | 'REASON_EXECUTOR_REREGISTRATION_TIMEOUT'
  | 'REASON_EXECUTOR_TERMINATED'
  | 'REASON_EXECUTOR_UNREGISTERED'
  | 'REASON_FRAMEWORK_REMOVED'
  | 'REASON_GC_ERROR'
  | 'REASON_INVALID_FRAMEWORKID'
  | 'REASON_INVALID_OFFERS'
  | 'REASON_IO_SWITCHBOARD_EXITED'
  | 'REASON_MASTER_DISCONNECTED'
  | 'REASON_RECONCILIATION'
  | 'REASON_RESOURCES_UNKNOWN'
  | 'REASON_AGENT_DISCONNECTED'
  | 'REASON_AGENT_DRAINING'
  | 'REASON_AGENT_REMOVED'
  | 'REASON_AGENT_REMOVED_BY_OPERATOR'
  | 'REASON_AGENT_REREGISTERED'
  | 'REASON_AGENT_RESTARTED'
  | 'REASON_AGENT_UNKNOWN'
  | 'REASON_TASK_KILLED_DURING_LAUNCH'
  | 'REASON_TASK_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED'
  | 'REASON_TASK_GROUP_INVALID'
  | 'REASON_TASK_GROUP_UNAUTHORIZED'
  | 'REASON_TASK_INVALID'
  | 'REASON_TASK_UNAUTHORIZED'
  | 'REASON_TASK_UNKNOWN';

export interface TaskStatus {
  task_id: TaskID;
  state: TaskState;
  message?: string;
  source?: TaskStatusSource;
  reason?: TaskStatusReason;
  data?: Base64;
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  /** Seconds since the epoch. */
  timestamp?: number;
  /** Present when the update must be acknowledged; absent for master-generated answers. */
  uuid?: Base64;
  healthy?: boolean;
  labels?: Labels;
  container_status?: {
    container_id?: ContainerID;
    executor_pid?: number;
  };
  unreachable_time?: TimeInfo;
}

/** A task as the operator API reports it. */
export interface Task {
  name: string;
  task_id: TaskID;
  framework_id: FrameworkID;
  executor_id?: ExecutorID;
  agent_id: AgentID;
  state: TaskState;
  resources?: Resource[];
  statuses?: TaskStatus[];
  status_update_state?: TaskState;
  status_update_uuid?: Base64;
  labels?: Labels;
  container?: ContainerInfo;
  user?: string;
}

// ---------------------------------------------------------------------------------------------
// Scheduler API (`mesos.v1.scheduler`)

export type SchedulerCallType =
  | 'UNKNOWN'
  | 'SUBSCRIBE'
  | 'TEARDOWN'
  | 'ACCEPT'
  | 'DECLINE'
  | 'ACCEPT_INVERSE_OFFERS'
  | 'DECLINE_INVERSE_OFFERS'
  | 'REVIVE'
  | 'KILL'
  | 'SHUTDOWN'
  | 'ACKNOWLEDGE'
  | 'ACKNOWLEDGE_OPERATION_STATUS'
  | 'RECONCILE'
  | 'RECONCILE_OPERATIONS'
  | 'MESSAGE'
  | 'REQUEST'
  | 'SUPPRESS'
  | 'UPDATE_FRAMEWORK';

export interface SchedulerCallSubscribe {
  framework_info: FrameworkInfo;
  suppressed_roles?: string[];
}

export interface SchedulerCallAccept {
  offer_ids: OfferID[];
  operations: OfferOperation[];
  filters?: Filters;
}

export interface SchedulerCallDecline {
  offer_ids: OfferID[];
  filters?: Filters;
}

export interface SchedulerCallRevive {
  /** Absent or empty: every role of the framework. */
  roles?: string[];
}

export interface SchedulerCallSuppress {
  /** Absent or empty: every role of the framework. */
  roles?: string[];
}

export interface SchedulerCallKill {
  task_id: TaskID;
  agent_id?: AgentID;
  kill_policy?: KillPolicy;
}

export interface SchedulerCallAcknowledge {
  agent_id: AgentID;
  task_id: TaskID;
  uuid: Base64;
}

export interface ReconcileTask {
  task_id: TaskID;
  agent_id?: AgentID;
}

export interface SchedulerCallReconcile {
  /** Empty: implicit reconciliation (the master answers for every task it knows). */
  tasks: ReconcileTask[];
}

export interface SchedulerCall {
  framework_id?: FrameworkID;
  type: SchedulerCallType;
  subscribe?: SchedulerCallSubscribe;
  accept?: SchedulerCallAccept;
  decline?: SchedulerCallDecline;
  revive?: SchedulerCallRevive;
  kill?: SchedulerCallKill;
  acknowledge?: SchedulerCallAcknowledge;
  reconcile?: SchedulerCallReconcile;
  suppress?: SchedulerCallSuppress;
}

export type SchedulerEventType =
  | 'UNKNOWN'
  | 'SUBSCRIBED'
  | 'OFFERS'
  | 'INVERSE_OFFERS'
  | 'RESCIND'
  | 'RESCIND_INVERSE_OFFER'
  | 'UPDATE'
  | 'UPDATE_OPERATION_STATUS'
  | 'MESSAGE'
  | 'FAILURE'
  | 'ERROR'
  | 'HEARTBEAT';

export interface SchedulerEventSubscribed {
  framework_id: FrameworkID;
  heartbeat_interval_seconds?: number;
  master_info?: MasterInfo;
}

export interface SchedulerEventOffers {
  offers?: Offer[];
}

export interface SchedulerEventRescind {
  offer_id: OfferID;
}

export interface SchedulerEventUpdate {
  status: TaskStatus;
}

export interface SchedulerEventMessage {
  agent_id: AgentID;
  executor_id: ExecutorID;
  data: Base64;
}

/** An agent (only `agent_id`) or an executor (`executor_id`, with its exit `status`) was lost. */
export interface SchedulerEventFailure {
  agent_id?: AgentID;
  executor_id?: ExecutorID;
  status?: number;
}

export interface SchedulerEventError {
  message: string;
}

export interface SchedulerEvent {
  /** Typed as string too: a newer master may send types this client does not know. */
  type: SchedulerEventType | (string & {});
  subscribed?: SchedulerEventSubscribed;
  offers?: SchedulerEventOffers;
  rescind?: SchedulerEventRescind;
  update?: SchedulerEventUpdate;
  message?: SchedulerEventMessage;
  failure?: SchedulerEventFailure;
  error?: SchedulerEventError;
}

// ---------------------------------------------------------------------------------------------
// Operator API (`mesos.v1.master`) and agent API (`mesos.v1.agent`), the calls Rhythm makes

export type OperatorCallType =
  | 'GET_HEALTH'
  | 'GET_VERSION'
  | 'GET_MASTER'
  | 'GET_AGENTS'
  | 'GET_STATE'
  | 'GET_TASKS'
  | 'GET_FRAMEWORKS'
  | 'READ_FILE';

export interface ReadFileRequest {
  path: string;
  offset: number;
  length?: number;
}

export interface OperatorCall {
  type: OperatorCallType;
  /** Agent API only (also served by the master for its own files). */
  read_file?: ReadFileRequest;
}

export interface VersionInfo {
  version: string;
  build_date?: string;
  build_time?: number;
  build_user?: string;
  git_sha?: string;
  git_branch?: string;
  git_tag?: string;
}

export interface GetHealthResponse {
  healthy: boolean;
}

export interface GetVersionResponse {
  version_info: VersionInfo;
}

export interface GetMasterResponse {
  master_info?: MasterInfo;
  start_time?: number;
  elected_time?: number;
}

export interface OperatorAgent {
  agent_info: AgentInfo;
  active: boolean;
  deactivated?: boolean;
  version: string;
  /** libprocess pid such as `slave(1)@10.0.0.2:5051`. */
  pid?: string;
  registered_time?: TimeInfo;
  reregistered_time?: TimeInfo;
  total_resources?: Resource[];
  allocated_resources?: Resource[];
  offered_resources?: Resource[];
  capabilities?: { type: AgentCapabilityType }[];
}

export interface GetAgentsResponse {
  agents?: OperatorAgent[];
  recovered_agents?: AgentInfo[];
}

export interface GetTasksResponse {
  tasks?: Task[];
  unreachable_tasks?: Task[];
  completed_tasks?: Task[];
  /** Deprecated by the master; still read for older masters. */
  pending_tasks?: Task[];
  orphan_tasks?: Task[];
}

export interface OperatorFramework {
  framework_info: FrameworkInfo;
  active: boolean;
  connected: boolean;
  recovered: boolean;
  registered_time?: TimeInfo;
  reregistered_time?: TimeInfo;
  unregistered_time?: TimeInfo;
  offers?: Offer[];
  allocated_resources?: Resource[];
  offered_resources?: Resource[];
}

export interface GetFrameworksResponse {
  frameworks?: OperatorFramework[];
  completed_frameworks?: OperatorFramework[];
}

export interface GetStateResponse {
  get_tasks?: GetTasksResponse;
  get_frameworks?: GetFrameworksResponse;
  get_agents?: GetAgentsResponse;
}

export interface ReadFileResponse {
  /** Whole file size in bytes, not the size of `data`. */
  size: number;
  data: Base64;
}

export type OperatorResponseType =
  | 'UNKNOWN'
  | 'GET_HEALTH'
  | 'GET_VERSION'
  | 'GET_MASTER'
  | 'GET_AGENTS'
  | 'GET_STATE'
  | 'GET_TASKS'
  | 'GET_FRAMEWORKS'
  | 'READ_FILE';

export interface OperatorResponse {
  type: OperatorResponseType;
  get_health?: GetHealthResponse;
  get_version?: GetVersionResponse;
  get_master?: GetMasterResponse;
  get_agents?: GetAgentsResponse;
  get_state?: GetStateResponse;
  get_tasks?: GetTasksResponse;
  get_frameworks?: GetFrameworksResponse;
  read_file?: ReadFileResponse;
}
