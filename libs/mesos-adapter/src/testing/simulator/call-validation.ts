import { isUuidBytes } from './ids';
import { isJsonObject, type JsonObject } from './proto-json';

/**
 * The master's call validation (`validation::scheduler::call::validate` and the master and agent
 * equivalents), run after JSON conversion. Each function returns the error text the master puts
 * after "Failed to validate scheduler::Call: ", or null when the call is valid.
 */

/** The sub-message each call type must carry. */
const SCHEDULER_CALL_BODY: Record<string, string | undefined> = {
  ACCEPT: 'accept',
  DECLINE: 'decline',
  ACCEPT_INVERSE_OFFERS: 'accept_inverse_offers',
  DECLINE_INVERSE_OFFERS: 'decline_inverse_offers',
  KILL: 'kill',
  SHUTDOWN: 'shutdown',
  ACKNOWLEDGE: 'acknowledge',
  ACKNOWLEDGE_OPERATION_STATUS: 'acknowledge_operation_status',
  RECONCILE: 'reconcile',
  RECONCILE_OPERATIONS: 'reconcile_operations',
  MESSAGE: 'message',
  REQUEST: 'request',
  UPDATE_FRAMEWORK: 'update_framework',
};

export function validateSchedulerCall(call: JsonObject): string | null {
  const type = call['type'];
  if (typeof type !== 'string') return "Expecting 'type' to be present";

  if (type === 'SUBSCRIBE') {
    const subscribe = call['subscribe'];
    if (!isJsonObject(subscribe)) return "Expecting 'subscribe' to be present";
    const info = subscribe['framework_info'];
    const infoId = isJsonObject(info) ? idValue(info['id']) : '';
    // Both ids default to an empty FrameworkID, so "absent" equals `{"value": ""}`.
    if (infoId !== idValue(call['framework_id'])) {
      return "'framework_id' differs from 'subscribe.framework_info.id'";
    }
    return null;
  }

  if (call['framework_id'] === undefined) return "Expecting 'framework_id' to be present";

  const body = SCHEDULER_CALL_BODY[type];
  if (body !== undefined && call[body] === undefined) return `Expecting '${body}' to be present`;

  if (type === 'ACKNOWLEDGE' || type === 'ACKNOWLEDGE_OPERATION_STATUS') {
    const ack = call[type === 'ACKNOWLEDGE' ? 'acknowledge' : 'acknowledge_operation_status'];
    const uuid = isJsonObject(ack) ? ack['uuid'] : undefined;
    if (typeof uuid !== 'string' || !isUuidBytes(Buffer.from(uuid, 'base64'))) {
      return 'Not a valid UUID';
    }
  }
  return null;
}

/** `validation::master::call::validate` for the calls that carry a body. */
export function validateMasterCall(call: JsonObject): string | null {
  const type = call['type'];
  if (typeof type !== 'string') return "Expecting 'type' to be present";
  const bodies: Record<string, string | undefined> = {
    READ_FILE: 'read_file',
    TEARDOWN: 'teardown',
    LIST_FILES: 'list_files',
    SET_LOGGING_LEVEL: 'set_logging_level',
  };
  const body = bodies[type];
  if (body !== undefined && call[body] === undefined) return `Expecting '${body}' to be present`;
  return null;
}

/** `validation::agent::call::validate` for the calls the simulated agent answers. */
export function validateAgentCall(call: JsonObject): string | null {
  const type = call['type'];
  if (typeof type !== 'string') return "Expecting 'type' to be present";
  if (type === 'READ_FILE' && call['read_file'] === undefined) {
    return "Expecting 'read_file' to be present";
  }
  return null;
}

function idValue(id: unknown): string {
  return isJsonObject(id) && typeof id['value'] === 'string' ? id['value'] : '';
}
