import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeVaultOptions {
  /** The one token Vault accepts; any other, or none, gets 403 permission denied. */
  readonly token: string;
  /** Secrets engine mounts: name (`secret`, `kv`) → KV version. Default `{ secret: 1 }`. */
  readonly mounts?: Readonly<Record<string, 1 | 2>>;
  /** Serve HTTPS with this key and certificate (PEM). */
  readonly tls?: { readonly key: string; readonly cert: string };
}

/** What the fake saw of one request (never the token itself). */
export interface SeenVaultRequest {
  readonly method: string;
  /** The raw request target, e.g. `/v1/secret/data/rhythm/g/p/db`. */
  readonly path: string;
  readonly tokenPresent: boolean;
  readonly tokenValid: boolean;
}

interface StoredSecret {
  readonly data: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly created: string;
  readonly deleted: string;
}

/**
 * A local Vault answering the KV secrets engine's read API, v1 and v2, on a free loopback port:
 * `GET /v1/<mount>/<path>` on a v1 mount, `GET /v1/<mount>/data/<path>` (latest version) on a v2
 * mount, with Vault's response shapes. A missing secret answers 404 `{"errors":[]}` (a soft-deleted
 * v2 version 404 with its metadata, as Vault), a wrong or missing token 403 `{"errors":["permission
 * denied"]}`, an unknown mount 404 with Vault's "no handler for route" error. `override` forces a
 * raw answer; `hang` makes requests wait until stop(). Requests are recorded for assertions.
 */
export class FakeVault {
  readonly seen: SeenVaultRequest[] = [];
  /** When set, every authorized request gets this raw answer. */
  override: { readonly status: number; readonly body: string } | null = null;
  /** When true, requests are accepted and never answered. */
  hang = false;

  private readonly secrets = new Map<string, StoredSecret>();
  private readonly sockets = new Set<Socket>();
  private readonly mounts: Readonly<Record<string, 1 | 2>>;

  private constructor(
    private readonly server: http.Server,
    private readonly options: FakeVaultOptions,
  ) {
    this.mounts = options.mounts ?? { secret: 1 };
  }

  static async start(options: FakeVaultOptions): Promise<FakeVault> {
    const server = options.tls
      ? https.createServer({ key: options.tls.key, cert: options.tls.cert })
      : http.createServer();
    const fake = new FakeVault(server, options);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) =>
      fake.handle(req, res),
    );
    server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
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

  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** The request targets seen so far, in order. */
  get paths(): string[] {
    return this.seen.map((request) => request.path);
  }

  /**
   * Writes a secret at `<mount>/<path>` (no `data/` for v2 mounts), as `vault kv put` would; on a
   * v2 mount each write is a new version.
   */
  put(logicalPath: string, data: Readonly<Record<string, unknown>>): void {
    const previous = this.secrets.get(logicalPath);
    this.secrets.set(logicalPath, {
      data,
      version: (previous?.version ?? 0) + 1,
      created: new Date().toISOString(),
      deleted: '',
    });
  }

  /** Deletes a secret: v1 forgets it, v2 soft-deletes its latest version (`vault kv delete`). */
  delete(logicalPath: string): void {
    const secret = this.secrets.get(logicalPath);
    if (!secret) return;
    if (this.mounts[logicalPath.split('/')[0]] === 2) {
      this.secrets.set(logicalPath, { ...secret, deleted: new Date().toISOString() });
    } else {
      this.secrets.delete(logicalPath);
    }
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const token = req.headers['x-vault-token'];
    const tokenPresent = typeof token === 'string' && token !== '';
    const tokenValid = token === this.options.token;
    this.seen.push({ method: req.method ?? '', path: req.url ?? '', tokenPresent, tokenValid });
    if (this.hang) return;
    if (!tokenValid) return send(res, 403, { errors: ['permission denied'] });
    if (this.override) return sendRaw(res, this.override.status, this.override.body);
    if (req.method !== 'GET') return send(res, 405, { errors: [] });

    const target = (req.url ?? '').split('?')[0];
    if (!target.startsWith('/v1/')) return send(res, 404, { errors: [] });
    let segments: string[];
    try {
      segments = target.slice('/v1/'.length).split('/').map(decodeURIComponent);
    } catch {
      return send(res, 400, { errors: ['invalid request path'] });
    }
    const [mount, ...rest] = segments;
    const version = this.mounts[mount];
    if (version === undefined) {
      return send(res, 404, {
        errors: [`no handler for route "${segments.join('/')}". route entry not found.`],
      });
    }
    if (version === 1) return this.readV1(res, [mount, ...rest].join('/'));
    if (rest[0] !== 'data' || rest.length < 2) {
      // What Vault says for `GET /v1/<v2 mount>/<path>` without `data/`.
      return send(res, 404, {
        errors: [],
        warnings: [
          'Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use.',
        ],
      });
    }
    this.readV2(res, [mount, ...rest.slice(1)].join('/'));
  }

  private readV1(res: http.ServerResponse, logicalPath: string): void {
    const secret = this.secrets.get(logicalPath);
    if (!secret) return send(res, 404, { errors: [] });
    send(res, 200, envelope(secret.data, 2764800));
  }

  private readV2(res: http.ServerResponse, logicalPath: string): void {
    const secret = this.secrets.get(logicalPath);
    if (!secret) return send(res, 404, { errors: [] });
    const metadata = {
      created_time: secret.created,
      custom_metadata: null,
      deletion_time: secret.deleted,
      destroyed: false,
      version: secret.version,
    };
    if (secret.deleted !== '') return send(res, 404, envelope({ data: null, metadata }, 0));
    send(res, 200, envelope({ data: secret.data, metadata }, 0));
  }
}

function envelope(data: unknown, leaseDuration: number): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: leaseDuration,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendRaw(res, status, JSON.stringify(body));
}

function sendRaw(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
