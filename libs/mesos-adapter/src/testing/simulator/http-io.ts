import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseProtoJson, type JsonObject, type MessageSchema } from './proto-json';

/**
 * The request checks every v1 endpoint of the master and agent makes before it looks at the call
 * (libprocess `http.cpp` and the `api()`/`scheduler()` handlers), with their status codes and
 * bodies. JSON only: the simulator neither reads nor writes protobuf.
 */

export const APPLICATION_JSON = 'application/json';
export const APPLICATION_PROTOBUF = 'application/x-protobuf';

/** Most a request body may be; a real master has no such limit but nothing legitimate is close. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface HttpFailure {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export type CallParse =
  | { ok: true; call: JsonObject; json: unknown }
  | { ok: false; failure: HttpFailure; json: unknown };

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** libprocess `MethodNotAllowed`. */
export function methodNotAllowed(method: string | undefined): HttpFailure {
  return {
    status: 405,
    body: `Expecting one of { 'POST' }, but received '${method ?? ''}'`,
    headers: { Allow: 'POST' },
  };
}

/**
 * Content-Type check, JSON parse, conversion into the Call message and validation, in the
 * master's order. `callName` is the message named in validation errors (`scheduler::Call`).
 */
export function parseCall(
  req: IncomingMessage,
  body: Buffer,
  schema: MessageSchema,
  callName: string,
  validate: (call: JsonObject) => string | null,
): CallParse {
  const text = body.toString('utf8');
  const contentType = req.headers['content-type'];
  if (contentType === undefined) {
    return fail(400, "Expecting 'Content-Type' to be present", text);
  }
  // The master compares the whole header, parameters included (Mesos has a TODO about it).
  if (contentType === APPLICATION_PROTOBUF) {
    return fail(415, 'The Mesos simulator reads application/json only, not protobuf', text);
  }
  if (contentType !== APPLICATION_JSON) {
    return fail(
      415,
      `Expecting 'Content-Type' of ${APPLICATION_JSON} or ${APPLICATION_PROTOBUF}`,
      text,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(400, `Failed to parse body into JSON: ${(error as Error).message}`, text);
  }
  const parsed = parseProtoJson(schema, json);
  if (!parsed.ok) {
    return fail(400, `Failed to convert JSON into Call protobuf: ${parsed.error}`, json);
  }
  const invalid = validate(parsed.message);
  if (invalid !== null) return fail(400, `Failed to validate ${callName}: ${invalid}`, json);
  return { ok: true, call: parsed.message, json };
}

function fail(status: number, body: string, json: unknown): CallParse {
  return { ok: false, failure: { status, body }, json };
}

/** The `Accept` negotiation: JSON is what the simulator writes; anything else is a 406. */
export function checkAccept(req: IncomingMessage): HttpFailure | null {
  if (acceptsMediaType(req.headers.accept, APPLICATION_JSON)) return null;
  if (acceptsMediaType(req.headers.accept, APPLICATION_PROTOBUF)) {
    return { status: 406, body: 'The Mesos simulator writes application/json only, not protobuf' };
  }
  return {
    status: 406,
    body: `Expecting 'Accept' to allow '${APPLICATION_PROTOBUF}' or '${APPLICATION_JSON}'`,
  };
}

/** libprocess `Request::acceptsMediaType`: no header accepts everything; `q=0` refuses. */
export function acceptsMediaType(header: string | undefined, mediaType: string): boolean {
  if (header === undefined || header.trim() === '') return true;
  const [type, subtype] = mediaType.split('/');
  return header.split(',').some((entry) => {
    const [range, ...params] = entry.split(';').map((part) => part.trim());
    const q = params.find((param) => param.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) <= 0) return false;
    const [rangeType, rangeSubtype] = range.toLowerCase().split('/');
    return (
      (rangeType === '*' && rangeSubtype === '*') ||
      (rangeType === type && (rangeSubtype === '*' || rangeSubtype === subtype))
    );
  });
}

export function sendFailure(res: ServerResponse, failure: HttpFailure): void {
  sendText(res, failure.status, failure.body, failure.headers);
}

/** A plain response; libprocess labels non-empty bodies `text/plain; charset=utf-8`. */
export function sendText(
  res: ServerResponse,
  status: number,
  body = '',
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(body, 'utf8');
  const all: Record<string, string | number> = { ...headers, 'Content-Length': bytes.length };
  if (bytes.length > 0) all['Content-Type'] = 'text/plain; charset=utf-8';
  res.writeHead(status, all);
  res.end(bytes);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  res.writeHead(status, { 'Content-Type': APPLICATION_JSON, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** The path of a request URL, without its query. */
export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
}
