/**
 * Test-only: a tiny per-test HTTP server on 127.0.0.1 that records every request and answers as
 * the test scripts it. Not a Mesos simulator (that lives in `src/testing/simulator/`).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { encodeRecord } from '../../wire/recordio';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Client port of the connection, to tell connections apart. */
  remotePort: number;
  /** Resolves when this request's connection closes. */
  closed: Promise<void>;
}

export type ScriptedHandler = (
  request: RecordedRequest,
  response: http.ServerResponse,
) => void | Promise<void>;

export class ScriptedServer {
  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    readonly requests: RecordedRequest[],
  ) {}

  /** Serves plain HTTP, or HTTPS with `tls`. */
  static async start(
    handler: ScriptedHandler,
    tls?: { cert: string; key: string },
  ): Promise<ScriptedServer> {
    const requests: RecordedRequest[] = [];
    const listener: http.RequestListener = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const socket = req.socket;
        const recorded: RecordedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body,
          json,
          remotePort: socket.remotePort ?? 0,
          closed: socketClosed(socket),
        };
        requests.push(recorded);
        Promise.resolve(handler(recorded, res)).catch((error: unknown) => {
          res.destroy(error instanceof Error ? error : new Error(String(error)));
        });
      });
    };
    const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new ScriptedServer(server, `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, requests);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Requests whose JSON body has this `type`. */
  ofType(type: string): RecordedRequest[] {
    return this.requests.filter(
      (request) => (request.json as { type?: unknown } | undefined)?.type === type,
    );
  }

  openConnections(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const closedSockets = new WeakMap<Socket, Promise<void>>();

/** One promise per socket, so many requests on a keep-alive connection add one listener. */
function socketClosed(socket: Socket): Promise<void> {
  let closed = closedSockets.get(socket);
  if (!closed) {
    closed = socket.destroyed
      ? Promise.resolve()
      : new Promise<void>((resolve) => socket.once('close', () => resolve()));
    closedSockets.set(socket, closed);
  }
  return closed;
}

/** A base URL nothing listens on (connection refused). */
export async function refusedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Starts a SUBSCRIBE answer: 200, chunked, with a stream id. */
export function beginEventStream(response: http.ServerResponse, streamId: string): void {
  response.writeHead(200, {
    'Content-Type': 'application/json',
    'Mesos-Stream-Id': streamId,
    'Transfer-Encoding': 'chunked',
  });
  response.flushHeaders();
}

/** Writes events as RecordIO records. */
export function writeEvents(response: http.ServerResponse, ...events: unknown[]): void {
  for (const event of events) response.write(encodeRecord(JSON.stringify(event)));
}

export function subscribedEvent(frameworkId: string, heartbeatIntervalSeconds = 15): unknown {
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      framework_id: { value: frameworkId },
      heartbeat_interval_seconds: heartbeatIntervalSeconds,
      master_info: { id: 'master-1', ip: 16777343, port: 5050, hostname: 'localhost' },
    },
  };
}

/** Polls until `predicate` holds; fails the test with `what` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  timeoutMs = 3000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
