import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedAgent } from './agent';
import { AGENT_CALL } from './call-schemas';
import { validateAgentCall } from './call-validation';
import {
  checkAccept,
  methodNotAllowed,
  parseCall,
  pathOf,
  readBody,
  sendFailure,
  sendJson,
  sendText,
} from './http-io';
import { MESOS_VERSION } from './options';
import { isJsonObject } from './proto-json';

/**
 * The agent's v1 API (`POST /api/v1` on the agent's port): GET_HEALTH, GET_VERSION and READ_FILE
 * on sandbox files, which is how frameworks fetch task output.
 */

const AGENT_PATHS: ReadonlySet<string> = new Set(['/api/v1', '/slave(1)/api/v1']);

export async function handleAgentRequest(
  agent: SimulatedAgent,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readBody(req);
  if (!AGENT_PATHS.has(pathOf(req))) return sendText(res, 404);
  if (req.method !== 'POST') return sendFailure(res, methodNotAllowed(req.method));
  const parsed = parseCall(req, body, AGENT_CALL, 'agent::Call', validateAgentCall);
  if (!parsed.ok) return sendFailure(res, parsed.failure);
  const notAcceptable = checkAccept(req);
  if (notAcceptable !== null) return sendFailure(res, notAcceptable);

  const type = String(parsed.call['type']);
  switch (type) {
    case 'GET_HEALTH':
      return sendJson(res, 200, { type, get_health: { healthy: true } });
    case 'GET_VERSION':
      return sendJson(res, 200, {
        type,
        get_version: { version_info: { version: MESOS_VERSION, git_tag: MESOS_VERSION } },
      });
    case 'READ_FILE': {
      const request = parsed.call['read_file'];
      if (!isJsonObject(request)) return sendText(res, 400);
      const path = String(request['path']);
      const offset = Number(request['offset']);
      const length = request['length'] === undefined ? undefined : Number(request['length']);
      // offset and length are uint64: negative values cannot be read.
      if (offset < 0) return sendText(res, 400, `Negative offset provided: ${offset}.\n`);
      if (length !== undefined && length < 0) {
        return sendText(res, 400, `Negative length provided: ${length}.\n`);
      }
      const result = await agent.readFile(path, offset, length);
      if (!result.ok) return sendText(res, result.status, result.message);
      return sendJson(res, 200, {
        type,
        read_file: { size: result.size, data: result.data.toString('base64') },
      });
    }
    case 'UNKNOWN':
      return sendText(res, 501);
    default:
      return sendText(res, 501, `The Mesos simulator does not implement ${type}`);
  }
}
