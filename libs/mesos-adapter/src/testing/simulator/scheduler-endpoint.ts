import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SchedulerCall } from '../../infrastructure/wire/mesos-messages';
import { SCHEDULER_CALL } from './call-schemas';
import { validateSchedulerCall } from './call-validation';
import {
  checkAccept,
  methodNotAllowed,
  parseCall,
  readBody,
  sendText,
  type HttpFailure,
} from './http-io';
import { leadershipFailure, type SimulatedMaster } from './master';
import type { MasterCore } from './master-core';
import { isJsonObject } from './proto-json';
import type { Recorder } from './recorder';
import { SubscriptionStream } from './subscription-stream';

/**
 * `POST /api/v1/scheduler`, with the checks of `Master::Http::scheduler` in their order: leader,
 * method, Content-Type, body, validation, Accept, then SUBSCRIBE or the framework and stream id
 * checks of every other call.
 */

export const SCHEDULER_PATHS: ReadonlySet<string> = new Set([
  '/api/v1/scheduler',
  '/master/api/v1/scheduler',
]);

export async function handleSchedulerRequest(
  core: MasterCore,
  recorder: Recorder,
  master: SimulatedMaster,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const seq = recorder.reserveSeq();
  const body = await readBody(req);
  const header = req.headers['mesos-stream-id'];
  const streamId = typeof header === 'string' ? header : null;
  let json = tryJson(body.toString('utf8'));
  const answer = (status: number, error = '', headers?: Record<string, string>) => {
    if (!res.headersSent) sendText(res, status, error, headers);
    recorder.recordCall({
      seq,
      master: master.index,
      method: req.method ?? '',
      path: req.url ?? '',
      type: callType(json),
      body: json,
      status,
      error,
      streamId,
      frameworkId: frameworkIdOf(json),
    });
  };
  const fail = (failure: HttpFailure) => answer(failure.status, failure.body, failure.headers);

  const notLeading = leadershipFailure(master, core.leadingMaster, req.url);
  if (notLeading !== null) return fail(notLeading);
  if (req.method !== 'POST') return fail(methodNotAllowed(req.method));

  const parsed = parseCall(req, body, SCHEDULER_CALL, 'scheduler::Call', validateSchedulerCall);
  json = parsed.json;
  if (!parsed.ok) return fail(parsed.failure);
  // The parsed message matches the proto schema, which the wire types describe.
  const call = parsed.call as unknown as SchedulerCall;

  if (call.type === 'SUBSCRIBE' || call.type === 'RECONCILE_OPERATIONS') {
    const notAcceptable = checkAccept(req);
    if (notAcceptable !== null) return fail(notAcceptable);
  }

  if (call.type === 'SUBSCRIBE' && call.subscribe !== undefined) {
    if (streamId !== null) {
      return answer(400, "Subscribe calls should not include the 'Mesos-Stream-Id' header");
    }
    const stream = new SubscriptionStream(res, (sent, event) =>
      recorder.recordEvent(sent.frameworkId, sent.streamId, event),
    );
    answer(200);
    core.subscribe(stream, call.subscribe);
    return;
  }

  const framework = core.framework(call.framework_id?.value ?? '');
  if (framework === undefined) return answer(400, 'Framework cannot be found');
  if (framework.stream === null) return answer(403, 'Framework is not subscribed');
  if (streamId === null) {
    return answer(400, "All non-subscribe calls should include the 'Mesos-Stream-Id' header");
  }
  if (streamId !== framework.stream.streamId) {
    return answer(
      400,
      `The stream ID '${streamId}' included in this request didn't match the stream ID ` +
        `currently associated with framework ID ${framework.id}`,
    );
  }
  const result = core.handleCall(framework, call, parsed.call);
  answer(result.status, result.body ?? '');
}

/** The body as JSON when it is JSON, else the text (for the call record). */
function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function callType(json: unknown): string | null {
  return isJsonObject(json) && typeof json['type'] === 'string' ? json['type'] : null;
}

function frameworkIdOf(json: unknown): string | null {
  if (!isJsonObject(json)) return null;
  const direct = idValue(json['framework_id']);
  if (direct !== null) return direct;
  const subscribe = json['subscribe'];
  if (!isJsonObject(subscribe) || !isJsonObject(subscribe['framework_info'])) return null;
  return idValue(subscribe['framework_info']['id']);
}

function idValue(id: unknown): string | null {
  return isJsonObject(id) && typeof id['value'] === 'string' ? id['value'] : null;
}
