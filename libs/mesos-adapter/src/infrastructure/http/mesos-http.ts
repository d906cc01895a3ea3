/**
 * The one HTTP transport shared by the scheduler and operator clients: JSON POSTs to a Mesos
 * master or agent, leader redirects, HTTP Basic auth, a private CA and timeouts. Built on node's
 * `http`/`https` so a subscription body can be read incrementally.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface MesosCredentials {
  principal: string;
  secret: string;
}

/** Structurally compatible with Nest's `Logger`, so the caller can pass one in. */
export interface MesosLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export const SILENT_LOGGER: MesosLogger = { log() {}, warn() {}, error() {} };

export interface MesosHttpOptions {
  credentials?: MesosCredentials;
  /** PEM CA bundle trusted for `https` masters and agents (in place of the system roots). */
  ca?: Buffer;
  /** Whole-request limit for calls; connect-to-headers limit for streams. Default 10 s. */
  requestTimeoutMs?: number;
  /** Leader redirects followed per request. Default 5. */
  maxRedirects?: number;
  /** Largest response body read into memory (GET_STATE of a large cluster is big). Default 128 MiB. */
  maxBodyBytes?: number;
}

export interface MesosRequest {
  /** Base URL of the master or agent, e.g. `http://10.0.0.1:5050`. */
  baseUrl: string;
  /** Endpoint path, e.g. `/api/v1/scheduler`. */
  path: string;
  body: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface MesosJsonResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Base URL that finally answered, after redirects. */
  baseUrl: string;
}

export interface MesosStream {
  /** The 200 response; its body is read by the caller, chunk by chunk. */
  response: http.IncomingMessage;
  /** Base URL that accepted the request, after redirects. */
  baseUrl: string;
  /** Closes the stream's connection (idempotent). */
  close(reason?: Error): void;
}

/** A master or agent answered with an unexpected HTTP status. */
export class MesosHttpError extends Error {
  override readonly name = 'MesosHttpError';
  constructor(
    readonly status: number,
    /** The answer's body as text (Mesos puts its error message there), trimmed and truncated. */
    readonly body: string,
    readonly url: string,
  ) {
    super(`${url} answered HTTP ${status}${body ? `: ${body}` : ''}`);
  }

  /** 5xx: this master cannot serve now (no leader elected, still recovering); another may. */
  get isServerError(): boolean {
    return this.status >= 500;
  }
}

/** No HTTP answer at all: refused, reset, DNS failure, TLS failure, timeout. */
export class MesosConnectionError extends Error {
  override readonly name = 'MesosConnectionError';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The caller's signal aborted the request. */
export class MesosAbortedError extends Error {
  override readonly name = 'MesosAbortedError';
}

/** True for failures where trying another master makes sense. */
export function isMasterUnavailable(error: unknown): boolean {
  return (
    error instanceof MesosConnectionError ||
    (error instanceof MesosHttpError && error.isServerError)
  );
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_REDIRECTS = 5;
const DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024;
const MAX_ERROR_TEXT = 2048;

export class MesosHttp {
  readonly requestTimeoutMs: number;
  private readonly maxRedirects: number;
  private readonly maxBodyBytes: number;
  private readonly authorization: string | undefined;
  private readonly ca: Buffer | undefined;
  /** Keep-alive pools for calls; streams never use them (each stream gets agents of its own). */
  private readonly callAgents: AgentPair;

  constructor(options: MesosHttpOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.ca = options.ca;
    this.callAgents = newAgentPair(options.ca);
    const { credentials } = options;
    this.authorization = credentials
      ? `Basic ${Buffer.from(`${credentials.principal}:${credentials.secret}`, 'utf8').toString('base64')}`
      : undefined;
  }

  /**
   * POSTs JSON and reads the whole answer, following leader redirects. Resolves for `expectStatus`
   * (any 2xx when absent); any other status rejects with `MesosHttpError`.
   */
  async postJson(request: MesosRequest, expectStatus?: number): Promise<MesosJsonResponse> {
    const deadline = new Deadline(this.requestTimeoutMs, request.signal);
    try {
      const { response, url } = await this.send(request, deadline.signal, this.callAgents);
      const body = await this.readBody(response, url, deadline.signal);
      const status = response.statusCode ?? 0;
      const ok =
        expectStatus === undefined ? status >= 200 && status < 300 : status === expectStatus;
      if (!ok) throw new MesosHttpError(status, errorText(body), describeUrl(url));
      return {
        status,
        headers: response.headers,
        body,
        baseUrl: baseUrlOf(url, request.path),
      };
    } catch (error) {
      throw deadline.explain(error, request);
    } finally {
      deadline.clear();
    }
  }

  /**
   * POSTs JSON and returns the 200 answer without reading its body, on a connection of its own.
   * The timeout covers only the wait for the response headers; the body may stream for days.
   */
  async openStream(request: MesosRequest): Promise<MesosStream> {
    const deadline = new Deadline(this.requestTimeoutMs, request.signal);
    // Agents of its own: the stream's connection is never lent to a call, as the API requires.
    const agents = newAgentPair(this.ca);
    let response: http.IncomingMessage;
    let url: URL;
    try {
      ({ response, url } = await this.send(request, deadline.signal, agents));
      if (response.statusCode !== 200) {
        const body = await this.readBody(response, url, deadline.signal);
        throw new MesosHttpError(response.statusCode ?? 0, errorText(body), describeUrl(url));
      }
    } catch (error) {
      destroyAgentPair(agents);
      throw deadline.explain(error, request);
    } finally {
      deadline.clear();
    }
    const stream = response;
    const onAbort = () => stream.destroy(new MesosAbortedError('Stream closed: aborted'));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => request.signal?.removeEventListener('abort', onAbort));
    return {
      response: stream,
      baseUrl: baseUrlOf(url, request.path),
      close(reason?: Error) {
        if (!stream.destroyed) stream.destroy(reason);
        // Destroying the response alone can leave a keep-alive socket open until the peer closes.
        stream.socket?.destroy();
        destroyAgentPair(agents);
      },
    };
  }

  /** Drops idle keep-alive connections so the process can exit. Later requests reconnect. */
  close(): void {
    destroyAgentPair(this.callAgents);
  }

  private async send(
    request: MesosRequest,
    signal: AbortSignal,
    agents: AgentPair,
  ): Promise<{ response: http.IncomingMessage; url: URL }> {
    const payload = Buffer.from(JSON.stringify(request.body), 'utf8');
    let url = endpointUrl(request.baseUrl, request.path);
    for (let redirects = 0; ; redirects++) {
      const response = await this.sendOnce(url, payload, request.headers, signal, agents);
      const location = response.headers.location;
      if (response.statusCode !== 307 || !location) return { response, url };
      response.resume();
      if (redirects >= this.maxRedirects) {
        throw new MesosHttpError(307, `too many redirects (last to ${location})`, describeUrl(url));
      }
      url = resolveRedirect(url, location, request.path);
    }
  }

  private sendOnce(
    url: URL,
    payload: Buffer,
    extraHeaders: Record<string, string> | undefined,
    signal: AbortSignal,
    agents: AgentPair,
  ): Promise<http.IncomingMessage> {
    const secure = url.protocol === 'https:';
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      'Content-Length': payload.length,
      ...extraHeaders,
    };
    if (this.authorization) headers.Authorization = this.authorization;
    const options: https.RequestOptions = {
      method: 'POST',
      headers,
      agent: secure ? agents.https : agents.http,
    };
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason as Error);
        return;
      }
      const req = (secure ? https : http).request(url, options, (response) => {
        signal.removeEventListener('abort', onAbort);
        resolve(response);
      });
      const onAbort = () => req.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error) => {
        signal.removeEventListener('abort', onAbort);
        reject(
          signal.aborted
            ? (signal.reason as Error)
            : new MesosConnectionError(
                `${describeUrl(url)} unreachable: ${error.message}`,
                describeUrl(url),
                { cause: error },
              ),
        );
      });
      req.end(payload);
    });
  }

  private readBody(response: http.IncomingMessage, url: URL, signal: AbortSignal): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onAbort = () => response.destroy(signal.reason as Error);
      const finish = (error: Error | null) => {
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve(Buffer.concat(chunks));
      };
      if (signal.aborted) {
        onAbort();
      } else {
        signal.addEventListener('abort', onAbort, { once: true });
      }
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > this.maxBodyBytes) {
          response.destroy(
            new MesosConnectionError(
              `${describeUrl(url)} answer exceeds ${this.maxBodyBytes} bytes`,
              describeUrl(url),
            ),
          );
          return;
        }
        chunks.push(chunk);
      });
      response.once('end', () => finish(null));
      response.once('error', (error) =>
        finish(
          signal.aborted
            ? (signal.reason as Error)
            : error instanceof MesosConnectionError
              ? error
              : new MesosConnectionError(
                  `${describeUrl(url)} answer cut off: ${error.message}`,
                  describeUrl(url),
                  { cause: error },
                ),
        ),
      );
    });
  }
}

interface AgentPair {
  http: http.Agent;
  https: https.Agent;
}

/** Keep-alive agents for both schemes (a redirect may switch scheme); idle until used. */
function newAgentPair(ca: Buffer | undefined): AgentPair {
  return {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true, ca }),
  };
}

function destroyAgentPair(agents: AgentPair): void {
  agents.http.destroy();
  agents.https.destroy();
}

/** The requests waiting for each caller signal to abort; see `onAbort`. */
const abortWaiters = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` when `signal` aborts; returns the function that stops listening. A signal gets
 * one listener of its own however many requests wait on it: the scheduler client shares one
 * signal among every call in flight, and more than 10 listeners make Node warn of a leak.
 */
function onAbort(signal: AbortSignal, listener: () => void): () => void {
  let waiters = abortWaiters.get(signal);
  if (!waiters) {
    const created = new Set<() => void>();
    waiters = created;
    abortWaiters.set(signal, created);
    signal.addEventListener(
      'abort',
      () => {
        for (const waiter of [...created]) waiter();
        created.clear();
      },
      { once: true },
    );
  }
  const own = waiters;
  own.add(listener);
  return () => own.delete(listener);
}

/** Combines the caller's signal with a timeout, and tells which of the two fired. */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private timedOut = false;
  private stopListening: (() => void) | undefined;
  private readonly onCallerAbort = () =>
    this.controller.abort(new MesosAbortedError('Request aborted'));

  constructor(
    private readonly timeoutMs: number,
    callerSignal: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new Error('timeout'));
    }, timeoutMs);
    if (callerSignal?.aborted) this.onCallerAbort();
    else if (callerSignal) this.stopListening = onAbort(callerSignal, this.onCallerAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  explain(error: unknown, request: MesosRequest): unknown {
    if (!this.timedOut) return error;
    const url = describeUrl(endpointUrl(request.baseUrl, request.path));
    return new MesosConnectionError(`${url} did not answer within ${this.timeoutMs} ms`, url);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.stopListening?.();
  }
}

/** `<base>/<path>`, tolerating a trailing slash on the base. */
export function endpointUrl(baseUrl: string, path: string): URL {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    // The text is not echoed: a malformed URL may still carry a password.
    throw new TypeError('Invalid Mesos URL (expected e.g. http://10.0.0.1:5050)');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`Unsupported Mesos URL scheme: ${base.protocol}`);
  }
  base.pathname = base.pathname.replace(/\/+$/, '') + path;
  base.search = '';
  base.hash = '';
  return base;
}

/**
 * Where a 307 from a non-leading master points. The master writes `//host:port/path`, the docs
 * show a bare `host:port`; both keep the scheme we used, so an `https` cluster stays on TLS.
 */
export function resolveRedirect(current: URL, location: string, endpointPath: string): URL {
  const trimmed = location.trim();
  let target: URL;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    target = new URL(trimmed);
  } else if (trimmed.startsWith('//')) {
    target = new URL(`${current.protocol}${trimmed}`);
  } else if (trimmed.startsWith('/')) {
    target = new URL(trimmed, current);
  } else {
    target = new URL(`${current.protocol}//${trimmed}`);
  }
  // A bare `host:port` names the leader, not an endpoint: keep the path we were calling.
  if (target.pathname === '/' || target.pathname === '') {
    target.pathname = current.pathname.endsWith(endpointPath) ? current.pathname : endpointPath;
  }
  return target;
}

/** The base URL (scheme, host, port, any prefix) of an endpoint URL. */
export function baseUrlOf(url: URL, endpointPath: string): string {
  const prefix = url.pathname.endsWith(endpointPath)
    ? url.pathname.slice(0, url.pathname.length - endpointPath.length)
    : '';
  return `${url.protocol}//${url.host}${prefix.replace(/\/+$/, '')}`;
}

/** A URL for messages: never the user-info part, which could hold a password. */
export function describeUrl(url: URL | string): string {
  const parsed = typeof url === 'string' ? new URL(url) : url;
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

function errorText(body: Buffer): string {
  const text = body.toString('utf8').trim();
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}
