import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

/** A member's access to one project, as GitLab reports it (10 Guest … 50 Owner); or no permissions. */
export type FakeProjectAccess =
  | { readonly project_access?: number | null; readonly group_access?: number | null }
  | 'no-permissions';

export interface FakeGitLabOptions {
  /** token → `group/project` → access. Projects missing from a token's map answer 404. */
  readonly tokens: Readonly<Record<string, Readonly<Record<string, FakeProjectAccess>>>>;
  /** token → milliseconds to wait before answering (slow GitLab). */
  readonly delaysMs?: Readonly<Record<string, number>>;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** What the fake saw of one request. */
export interface SeenRequest {
  readonly method: string;
  /** The raw request target, e.g. `/api/v4/projects/group%2Fproject`. */
  readonly url: string;
  readonly privateToken: string | undefined;
  readonly accept: string | undefined;
}

const PROJECTS_PREFIX = '/api/v4/projects/';

/**
 * A local GitLab v4 API for `GET /api/v4/projects/:id` (id = URL-encoded `group/project`) and
 * `GET /api/v4/user` (the token's user), on a
 * free loopback port. Unknown tokens get 401, unknown projects 404, as GitLab does; `failWith`
 * makes every request answer an error status (e.g. 500), `override` any raw answer. Counts requests and connections and records
 * the PRIVATE-TOKEN headers it saw.
 */
export class FakeGitLab {
  /** When set, every request gets this answer (status and raw body) instead of the API's. */
  override: { readonly status: number; readonly body: string } | null = null;
  readonly seen: SeenRequest[] = [];
  connections = 0;

  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeGitLabOptions,
  ) {}

  static async start(options: FakeGitLabOptions): Promise<FakeGitLab> {
    const server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert })
      : http.createServer();
    const fake = new FakeGitLab(server, options);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
      fake.handle(req, res),
    );
    server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      fake.connections += 1;
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Requests answered or pending so far. */
  get requests(): number {
    return this.seen.length;
  }

  /** The PRIVATE-TOKEN header of every request, in order (undefined when absent). */
  get privateTokens(): (string | undefined)[] {
    return this.seen.map((request) => request.privateToken);
  }

  /** Every request answers `status` with a GitLab-like error body, until `recover()`. */
  failWith(status: number): void {
    this.override = { status, body: JSON.stringify({ message: `${status} Fake GitLab failure` }) };
  }

  recover(): void {
    this.override = null;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const token = header(req, 'private-token');
    this.seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      privateToken: token,
      accept: header(req, 'accept'),
    });
    const delay = token === undefined ? 0 : (this.options.delaysMs?.[token] ?? 0);
    if (delay <= 0) {
      this.answer(req, res, token);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!res.destroyed) this.answer(req, res, token);
    }, delay);
    this.timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse, token?: string): void {
    if (this.override) return sendRaw(res, this.override.status, this.override.body);
    if (req.method !== 'GET') return send(res, 405, { message: '405 Method Not Allowed' });
    const url = req.url ?? '';
    const projects = token === undefined ? undefined : this.options.tokens[token];
    if (!projects) return send(res, 401, { message: '401 Unauthorized' });
    if (url === '/api/v4/user') return send(res, 200, { id: 7, username: 'fake-user' });
    if (!url.startsWith(PROJECTS_PREFIX)) return send(res, 404, { error: '404 Not Found' });
    const id = url.slice(PROJECTS_PREFIX.length);
    // A literal slash would route elsewhere in GitLab: the id must be URL-encoded.
    if (id.includes('/') || id.includes('?')) return send(res, 404, { error: '404 Not Found' });
    let path: string;
    try {
      path = decodeURIComponent(id);
    } catch {
      return send(res, 404, { error: '404 Not Found' });
    }
    const access = Object.hasOwn(projects, path) ? projects[path] : undefined;
    if (access === undefined) return send(res, 404, { message: '404 Project Not Found' });
    send(res, 200, projectDocument(path, access));
  }
}

function projectDocument(path: string, access: FakeProjectAccess): Record<string, unknown> {
  const [namespace = '', name = ''] = path.split('/');
  const document: Record<string, unknown> = {
    id: 42,
    name,
    path: name,
    path_with_namespace: path,
    visibility: 'private',
    namespace: { id: 7, name: namespace, path: namespace, kind: 'group', full_path: namespace },
  };
  if (access === 'no-permissions') return document;
  const permissions: Record<string, unknown> = {};
  if (access.project_access !== undefined) {
    permissions.project_access = memberAccess(access.project_access);
  }
  if (access.group_access !== undefined) {
    permissions.group_access = memberAccess(access.group_access);
  }
  document.permissions = permissions;
  return document;
}

function memberAccess(level: number | null): Record<string, number> | null {
  return level === null ? null : { access_level: level, notification_level: 3 };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body));
}

function sendRaw(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
