import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Authorizer } from '../../application/ports/authorizer.port';
import { highest, type AccessLevel, type ProjectRef } from '../../domain/access-level';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import type { GitLabAuthorizerOptions } from '../authorizer-options';

/** GitLab's answers are small project documents; anything far larger is not one. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Idle keep-alive sockets are dropped after this long. */
const IDLE_SOCKET_MS = 30_000;

const MAX_SOCKETS = 64;

/** Characters a token must consist of to be sent as a header (visible ASCII). */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * The GitLab backend, as the original Rhythm: the caller's personal access token (X-Token) is
 * sent to `GET /api/v4/projects/:group%2Fproject`, and the higher of its project and group access
 * levels decides: Developer (30) and above read-write, Reporter (20) read-only, anything else none.
 * GitLab's 401 (unknown token) and 404 (no such project, or not visible) are `none`; other statuses,
 * bad bodies, transport errors and timeouts are BACKEND_UNAVAILABLE. Unlike the original, a project
 * without a `permissions` object is `none` (it crashed), and every request is bounded by timeoutMs.
 * The token is never logged nor put in an error message.
 */
export class GitLabAuthorizer implements Authorizer {
  readonly backend = 'gitlab';
  readonly scheme = 'token' as const;

  private readonly base: URL;
  private readonly apiPath: string;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly timeoutMs: number;

  constructor(options: GitLabAuthorizerOptions) {
    if (!options.addr) throw new Error('GitLab address not set');
    let base: URL;
    try {
      base = new URL(options.addr);
    } catch {
      throw new Error(`GitLab address '${options.addr}' is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`GitLab address '${options.addr}' must be an http:// or https:// URL`);
    }
    if (!(options.timeoutMs > 0)) throw new Error('the GitLab timeout must be a positive number');
    this.base = base;
    this.timeoutMs = options.timeoutMs;
    // As the original: addr + "/api/v4/", unless addr already ends so.
    const path = base.pathname.replace(/\/+$/, '');
    this.apiPath = path.endsWith('/api/v4') ? path : `${path}/api/v4`;
    if (base.protocol === 'https:') {
      const ca = options.caCertFile ? readCa(options.caCertFile) : undefined;
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets: MAX_SOCKETS,
        timeout: IDLE_SOCKET_MS,
        ...(ca ? { ca } : {}),
      });
      this.request = https.request;
    } else {
      this.agent = new http.Agent({
        keepAlive: true,
        maxSockets: MAX_SOCKETS,
        timeout: IDLE_SOCKET_MS,
      });
      this.request = http.request;
    }
  }

  async accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel> {
    const token = this.tokenOf(credentials);
    const path = `${this.apiPath}/projects/${encodeURIComponent(`${ref.group}/${ref.project}`)}`;
    const answer = await this.get(path, token);
    switch (answer.status) {
      case 200:
        return levelOfProject(answer.body);
      case 401: // unknown, expired or revoked token: no access, as the original
      case 404: // no such project, or not visible with this token
        return 'none';
      default:
        throw unavailable(`GitLab answered HTTP ${answer.status} for ${ref.group}/${ref.project}`);
    }
  }

  /** `GET /user`: GitLab answers 401 for a token it does not know (or that expired). */
  async authenticate(credentials: Credentials): Promise<void> {
    const answer = await this.get(`${this.apiPath}/user`, this.tokenOf(credentials));
    if (answer.status === 401) {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'GitLab does not know the token');
    }
    if (answer.status !== 200) throw unavailable(`GitLab answered HTTP ${answer.status} for /user`);
  }

  private tokenOf(credentials: Credentials): string {
    if (credentials.kind !== 'token' || credentials.token === '') {
      throw new AuthzError(
        AuthzErrorCode.MISSING_CREDENTIALS,
        'The GitLab backend needs a GitLab personal access token in the X-Token header',
      );
    }
    if (!SENDABLE_TOKEN.test(credentials.token)) {
      throw new AuthzError(
        AuthzErrorCode.INVALID_CREDENTIALS,
        'The token has characters a GitLab access token cannot have',
      );
    }
    return credentials.token;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** One GET bounded by timeoutMs; retried once when a reused keep-alive socket was closed under it. */
  private get(path: string, token: string): Promise<Answer> {
    const deadline = Date.now() + this.timeoutMs;
    return this.attempt(path, token, deadline, true);
  }

  private attempt(path: string, token: string, deadline: number, retry: boolean): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        req = this.request({
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.base.port || undefined,
          path,
          method: 'GET',
          agent: this.agent,
          headers: {
            'PRIVATE-TOKEN': token,
            Accept: 'application/json',
            'User-Agent': 'rhythm',
          },
        });
      } catch (error) {
        reject(unavailable('Could not send the request to GitLab', error));
        return;
      }

      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(
        () => {
          finish(() => reject(unavailable(`GitLab did not answer within ${this.timeoutMs} ms`)));
          req.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );

      req.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        if (retry && req.reusedSocket && isConnectionReset(error)) {
          finish(() => resolve(this.attempt(path, token, deadline, false)));
          return;
        }
        finish(() =>
          reject(
            unavailable(`GitLab at ${this.base.origin} is unreachable: ${error.message}`, error),
          ),
        );
      });

      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            finish(() => reject(unavailable('GitLab answered with an oversized body')));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          finish(() => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
        });
        res.on('error', (error) => {
          finish(() =>
            reject(unavailable(`GitLab's answer was cut short: ${error.message}`, error)),
          );
        });
        res.on('close', () => {
          if (!res.complete) finish(() => reject(unavailable("GitLab's answer was cut short")));
        });
      });

      req.end();
    });
  }
}

/** The level of a 200 answer: the higher of project and group access, either may be null. */
function levelOfProject(body: string): AccessLevel {
  let project: unknown;
  try {
    project = JSON.parse(body);
  } catch {
    throw unavailable('GitLab answered 200 with a body that is not JSON');
  }
  if (!isObject(project)) {
    throw unavailable('GitLab answered 200 with a body that is not a project');
  }
  const permissions = project.permissions;
  // A project without permissions (e.g. public, seen without membership) grants nothing.
  if (!isObject(permissions)) return 'none';
  return highest([
    levelOfAccess(permissions.project_access),
    levelOfAccess(permissions.group_access),
  ]);
}

function levelOfAccess(access: unknown): AccessLevel {
  if (!isObject(access)) return 'none';
  const level = access.access_level;
  if (typeof level !== 'number') return 'none';
  if (level >= 30) return 'readwrite';
  if (level === 20) return 'readonly';
  return 'none';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isConnectionReset(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ECONNRESET' || error.code === 'EPIPE';
}

function unavailable(message: string, cause?: unknown): AuthzError {
  return new AuthzError(
    AuthzErrorCode.BACKEND_UNAVAILABLE,
    message,
    cause === undefined ? undefined : { cause },
  );
}

function readCa(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read the GitLab CA certificate file ${file}: ${(error as Error).message}`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`No certs appended: ${file} holds no PEM certificate`);
  }
  return pem;
}
