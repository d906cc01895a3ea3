import {
  BOOL,
  BYTES,
  DOUBLE,
  INTEGER,
  OPAQUE,
  STRING,
  enumOf,
  messageOf,
  optional,
  repeated,
  required,
  type MessageSchema,
} from './proto-json';

/**
 * The parts of `mesos.proto`, `scheduler.proto`, `master.proto` and `agent.proto` the simulator
 * reads, field by field in declaration order (names, labels and enum values as in the protos).
 */

const id: MessageSchema = { fields: [required('value', STRING)] };
const ID = messageOf(() => id);

const labels: MessageSchema = {
  fields: [
    repeated(
      'labels',
      messageOf(() => ({ fields: [required('key', STRING), optional('value', STRING)] })),
    ),
  ],
};
const LABELS = messageOf(() => labels);

const durationInfo: MessageSchema = { fields: [required('nanoseconds', INTEGER)] };

export const FRAMEWORK_CAPABILITIES = [
  'UNKNOWN',
  'REVOCABLE_RESOURCES',
  'TASK_KILLING_STATE',
  'GPU_RESOURCES',
  'SHARED_RESOURCES',
  'PARTITION_AWARE',
  'MULTI_ROLE',
  'RESERVATION_REFINEMENT',
  'REGION_AWARE',
] as const;

const frameworkInfo: MessageSchema = {
  fields: [
    required('user', STRING),
    required('name', STRING),
    optional('id', ID),
    optional('failover_timeout', DOUBLE),
    optional('checkpoint', BOOL),
    optional('role', STRING),
    repeated('roles', STRING),
    optional('hostname', STRING),
    optional('principal', STRING),
    optional('webui_url', STRING),
    repeated(
      'capabilities',
      messageOf(() => ({ fields: [optional('type', enumOf(FRAMEWORK_CAPABILITIES))] })),
    ),
    optional('labels', LABELS),
    optional('offer_filters', OPAQUE),
  ],
};

const filters: MessageSchema = { fields: [optional('refuse_seconds', DOUBLE)] };

const VALUE_TYPE = enumOf(['SCALAR', 'RANGES', 'SET', 'TEXT']);

const reservationInfo: MessageSchema = {
  fields: [
    optional('type', enumOf(['UNKNOWN', 'STATIC', 'DYNAMIC'])),
    optional('role', STRING),
    optional('principal', STRING),
    optional('labels', LABELS),
  ],
};

const resource: MessageSchema = {
  fields: [
    optional('provider_id', OPAQUE),
    required('name', STRING),
    required('type', VALUE_TYPE),
    optional(
      'scalar',
      messageOf(() => ({ fields: [required('value', DOUBLE)] })),
    ),
    optional(
      'ranges',
      messageOf(() => ({
        fields: [
          repeated(
            'range',
            messageOf(() => ({ fields: [required('begin', INTEGER), required('end', INTEGER)] })),
          ),
        ],
      })),
    ),
    optional(
      'set',
      messageOf(() => ({ fields: [repeated('item', STRING)] })),
    ),
    optional('role', STRING),
    optional(
      'allocation_info',
      messageOf(() => ({ fields: [optional('role', STRING)] })),
    ),
    optional(
      'reservation',
      messageOf(() => reservationInfo),
    ),
    repeated(
      'reservations',
      messageOf(() => reservationInfo),
    ),
    optional('disk', OPAQUE),
    optional('revocable', OPAQUE),
    optional('shared', OPAQUE),
  ],
};
const RESOURCE = messageOf(() => resource);

const commandInfo: MessageSchema = {
  fields: [
    repeated(
      'uris',
      messageOf(() => ({
        fields: [
          required('value', STRING),
          optional('executable', BOOL),
          optional('extract', BOOL),
          optional('cache', BOOL),
          optional('output_file', STRING),
        ],
      })),
    ),
    optional(
      'environment',
      messageOf(() => ({
        fields: [
          repeated(
            'variables',
            messageOf(() => ({
              fields: [
                required('name', STRING),
                optional('type', enumOf(['UNKNOWN', 'VALUE', 'SECRET'])),
                optional('value', STRING),
                optional('secret', OPAQUE),
              ],
            })),
          ),
        ],
      })),
    ),
    optional('shell', BOOL),
    optional('value', STRING),
    repeated('arguments', STRING),
    optional('user', STRING),
  ],
};
const COMMAND = messageOf(() => commandInfo);

const containerInfo: MessageSchema = {
  fields: [
    required('type', enumOf(['DOCKER', 'MESOS'])),
    repeated('volumes', OPAQUE),
    optional('hostname', STRING),
    optional(
      'docker',
      messageOf(() => ({
        fields: [
          required('image', STRING),
          optional('network', enumOf(['HOST', 'BRIDGE', 'NONE', 'USER'])),
          repeated('port_mappings', OPAQUE),
          optional('privileged', BOOL),
          repeated('parameters', OPAQUE),
          optional('force_pull_image', BOOL),
          optional('volume_driver', STRING),
        ],
      })),
    ),
    optional(
      'mesos',
      messageOf(() => ({ fields: [optional('image', OPAQUE)] })),
    ),
    repeated('network_infos', OPAQUE),
    optional('linux_info', OPAQUE),
    optional('rlimit_info', OPAQUE),
    optional('tty_info', OPAQUE),
  ],
};
const CONTAINER = messageOf(() => containerInfo);

const killPolicy: MessageSchema = {
  fields: [
    optional(
      'grace_period',
      messageOf(() => durationInfo),
    ),
  ],
};

const executorInfo: MessageSchema = {
  fields: [
    optional('type', enumOf(['UNKNOWN', 'DEFAULT', 'CUSTOM'])),
    required('executor_id', ID),
    optional('framework_id', ID),
    optional('command', COMMAND),
    optional('container', CONTAINER),
    repeated('resources', RESOURCE),
    optional('name', STRING),
    optional('source', STRING),
    optional('data', BYTES),
    optional('discovery', OPAQUE),
    optional(
      'shutdown_grace_period',
      messageOf(() => durationInfo),
    ),
    optional('labels', LABELS),
  ],
};

const taskInfo: MessageSchema = {
  fields: [
    required('name', STRING),
    required('task_id', ID),
    required('agent_id', ID),
    repeated('resources', RESOURCE),
    optional(
      'executor',
      messageOf(() => executorInfo),
    ),
    optional('command', COMMAND),
    optional('container', CONTAINER),
    optional('health_check', OPAQUE),
    optional('check', OPAQUE),
    optional(
      'kill_policy',
      messageOf(() => killPolicy),
    ),
    optional('data', BYTES),
    optional('labels', LABELS),
    optional('discovery', OPAQUE),
    optional(
      'max_completion_time',
      messageOf(() => durationInfo),
    ),
    optional('limits', OPAQUE),
  ],
};
const TASK_INFO = messageOf(() => taskInfo);

const OPERATION_TYPES = [
  'UNKNOWN',
  'LAUNCH',
  'LAUNCH_GROUP',
  'RESERVE',
  'UNRESERVE',
  'CREATE',
  'DESTROY',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'CREATE_DISK',
  'DESTROY_DISK',
];

const operation: MessageSchema = {
  fields: [
    optional('type', enumOf(OPERATION_TYPES)),
    optional('id', ID),
    optional(
      'launch',
      messageOf(() => ({ fields: [repeated('task_infos', TASK_INFO)] })),
    ),
    optional(
      'launch_group',
      messageOf(() => ({
        fields: [
          required(
            'executor',
            messageOf(() => executorInfo),
          ),
          required(
            'task_group',
            messageOf(() => ({ fields: [repeated('tasks', TASK_INFO)] })),
          ),
        ],
      })),
    ),
    optional('reserve', OPAQUE),
    optional('unreserve', OPAQUE),
    optional('create', OPAQUE),
    optional('destroy', OPAQUE),
    optional('grow_volume', OPAQUE),
    optional('shrink_volume', OPAQUE),
    optional('create_disk', OPAQUE),
    optional('destroy_disk', OPAQUE),
  ],
};

export const SCHEDULER_CALL_TYPES = [
  'UNKNOWN',
  'SUBSCRIBE',
  'TEARDOWN',
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'REVIVE',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'ACKNOWLEDGE_OPERATION_STATUS',
  'RECONCILE',
  'RECONCILE_OPERATIONS',
  'MESSAGE',
  'REQUEST',
  'SUPPRESS',
  'UPDATE_FRAMEWORK',
] as const;

const offerIdsAndFilters = (): MessageSchema => ({
  fields: [
    repeated('offer_ids', ID),
    optional(
      'filters',
      messageOf(() => filters),
    ),
  ],
});

const subscribe: MessageSchema = {
  fields: [
    required(
      'framework_info',
      messageOf(() => frameworkInfo),
    ),
    repeated('suppressed_roles', STRING),
    optional('offer_constraints', OPAQUE),
  ],
};

export const SCHEDULER_CALL: MessageSchema = {
  fields: [
    optional('framework_id', ID),
    optional('type', enumOf(SCHEDULER_CALL_TYPES)),
    optional(
      'subscribe',
      messageOf(() => subscribe),
    ),
    optional(
      'accept',
      messageOf(() => ({
        fields: [
          repeated('offer_ids', ID),
          repeated(
            'operations',
            messageOf(() => operation),
          ),
          optional(
            'filters',
            messageOf(() => filters),
          ),
        ],
      })),
    ),
    optional('decline', messageOf(offerIdsAndFilters)),
    optional(
      'accept_inverse_offers',
      messageOf(() => ({
        fields: [
          repeated('inverse_offer_ids', ID),
          optional(
            'filters',
            messageOf(() => filters),
          ),
        ],
      })),
    ),
    optional(
      'decline_inverse_offers',
      messageOf(() => ({
        fields: [
          repeated('inverse_offer_ids', ID),
          optional(
            'filters',
            messageOf(() => filters),
          ),
        ],
      })),
    ),
    optional(
      'revive',
      messageOf(() => ({ fields: [repeated('roles', STRING)] })),
    ),
    optional(
      'kill',
      messageOf(() => ({
        fields: [
          required('task_id', ID),
          optional('agent_id', ID),
          optional(
            'kill_policy',
            messageOf(() => killPolicy),
          ),
        ],
      })),
    ),
    optional(
      'shutdown',
      messageOf(() => ({ fields: [required('executor_id', ID), required('agent_id', ID)] })),
    ),
    optional(
      'acknowledge',
      messageOf(() => ({
        fields: [required('agent_id', ID), required('task_id', ID), required('uuid', BYTES)],
      })),
    ),
    optional(
      'acknowledge_operation_status',
      messageOf(() => ({
        fields: [
          optional('agent_id', ID),
          optional('resource_provider_id', ID),
          required('uuid', BYTES),
          required('operation_id', ID),
        ],
      })),
    ),
    optional(
      'reconcile',
      messageOf(() => ({
        fields: [
          repeated(
            'tasks',
            messageOf(() => ({ fields: [required('task_id', ID), optional('agent_id', ID)] })),
          ),
        ],
      })),
    ),
    optional('reconcile_operations', OPAQUE),
    optional(
      'message',
      messageOf(() => ({
        fields: [required('agent_id', ID), required('executor_id', ID), required('data', BYTES)],
      })),
    ),
    optional('request', OPAQUE),
    optional(
      'suppress',
      messageOf(() => ({ fields: [repeated('roles', STRING)] })),
    ),
    optional(
      'update_framework',
      messageOf(() => subscribe),
    ),
  ],
};

const readFile: MessageSchema = {
  fields: [required('path', STRING), required('offset', INTEGER), optional('length', INTEGER)],
};

export const MASTER_CALL_TYPES = [
  'UNKNOWN',
  'GET_HEALTH',
  'GET_FLAGS',
  'GET_VERSION',
  'GET_METRICS',
  'GET_LOGGING_LEVEL',
  'SET_LOGGING_LEVEL',
  'LIST_FILES',
  'READ_FILE',
  'GET_STATE',
  'GET_AGENTS',
  'GET_FRAMEWORKS',
  'GET_EXECUTORS',
  'GET_OPERATIONS',
  'GET_TASKS',
  'GET_ROLES',
  'GET_WEIGHTS',
  'UPDATE_WEIGHTS',
  'GET_MASTER',
  'SUBSCRIBE',
  'RESERVE_RESOURCES',
  'UNRESERVE_RESOURCES',
  'CREATE_VOLUMES',
  'DESTROY_VOLUMES',
  'GROW_VOLUME',
  'SHRINK_VOLUME',
  'GET_MAINTENANCE_STATUS',
  'GET_MAINTENANCE_SCHEDULE',
  'UPDATE_MAINTENANCE_SCHEDULE',
  'START_MAINTENANCE',
  'STOP_MAINTENANCE',
  'DRAIN_AGENT',
  'DEACTIVATE_AGENT',
  'REACTIVATE_AGENT',
  'GET_QUOTA',
  'UPDATE_QUOTA',
  'SET_QUOTA',
  'REMOVE_QUOTA',
  'TEARDOWN',
  'MARK_AGENT_GONE',
] as const;

/** `mesos.v1.master.Call`: the calls the simulator answers are read, the rest kept opaque. */
export const MASTER_CALL: MessageSchema = {
  fields: [
    optional('type', enumOf(MASTER_CALL_TYPES)),
    optional('get_metrics', OPAQUE),
    optional('set_logging_level', OPAQUE),
    optional('list_files', OPAQUE),
    optional(
      'read_file',
      messageOf(() => readFile),
    ),
    optional('update_weights', OPAQUE),
    optional('reserve_resources', OPAQUE),
    optional('unreserve_resources', OPAQUE),
    optional('create_volumes', OPAQUE),
    optional('destroy_volumes', OPAQUE),
    optional('grow_volume', OPAQUE),
    optional('shrink_volume', OPAQUE),
    optional('update_maintenance_schedule', OPAQUE),
    optional('start_maintenance', OPAQUE),
    optional('stop_maintenance', OPAQUE),
    optional('drain_agent', OPAQUE),
    optional('deactivate_agent', OPAQUE),
    optional('reactivate_agent', OPAQUE),
    optional('update_quota', OPAQUE),
    optional(
      'teardown',
      messageOf(() => ({ fields: [required('framework_id', ID)] })),
    ),
    optional('mark_agent_gone', OPAQUE),
    optional('set_quota', OPAQUE),
    optional('remove_quota', OPAQUE),
  ],
};

export const AGENT_CALL_TYPES = [
  'UNKNOWN',
  'GET_HEALTH',
  'GET_FLAGS',
  'GET_VERSION',
  'GET_METRICS',
  'GET_LOGGING_LEVEL',
  'SET_LOGGING_LEVEL',
  'LIST_FILES',
  'READ_FILE',
  'GET_STATE',
  'GET_CONTAINERS',
  'GET_FRAMEWORKS',
  'GET_EXECUTORS',
  'GET_OPERATIONS',
  'GET_TASKS',
  'GET_AGENT',
  'GET_RESOURCE_PROVIDERS',
  'LAUNCH_NESTED_CONTAINER',
  'WAIT_NESTED_CONTAINER',
  'KILL_NESTED_CONTAINER',
  'REMOVE_NESTED_CONTAINER',
  'LAUNCH_NESTED_CONTAINER_SESSION',
  'ATTACH_CONTAINER_INPUT',
  'ATTACH_CONTAINER_OUTPUT',
  'LAUNCH_CONTAINER',
  'WAIT_CONTAINER',
  'KILL_CONTAINER',
  'REMOVE_CONTAINER',
  'ADD_RESOURCE_PROVIDER_CONFIG',
  'UPDATE_RESOURCE_PROVIDER_CONFIG',
  'REMOVE_RESOURCE_PROVIDER_CONFIG',
  'MARK_RESOURCE_PROVIDER_GONE',
  'PRUNE_IMAGES',
] as const;

/** `mesos.v1.agent.Call`, read as far as the simulator answers it. */
export const AGENT_CALL: MessageSchema = {
  fields: [
    optional('type', enumOf(AGENT_CALL_TYPES)),
    optional('get_metrics', OPAQUE),
    optional('set_logging_level', OPAQUE),
    optional('list_files', OPAQUE),
    optional(
      'read_file',
      messageOf(() => readFile),
    ),
    optional('get_containers', OPAQUE),
  ],
};
