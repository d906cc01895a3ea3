import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { JobId } from '@rhythm/jobs';
import { SecretReadError, secretPathSegments, type SecretStore } from './secret-store.port';

export type VaultKvVersion = 1 | 2;

export interface VaultSecretStoreOptions {
  /** Vault's address, `http(s)://host:port` (a path prefix is kept, for Vault behind a proxy). */
  readonly addr: string;
  readonly token: string;
  /** Where Rhythm's secrets live; default `secret/rhythm/`. For KV v2 its first segment is the mount. */
  readonly root?: string;
  /** KV secrets engine version of the mount; default 1, as the original. */
  readonly kvVersion?: VaultKvVersion;
  /** Bound on one read, connection included; default 5000. */
  readonly timeoutMs?: number;
  /** PEM file of the CAs to trust for an https address (instead of the system's). */
  readonly caFile?: string;
}

export const DEFAULT_VAULT_ROOT = 'secret/rhythm/';
export const DEFAULT_VAULT_TIMEOUT_MS = 5000;

/** A KV read answers one small document; anything far larger is not one. */
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SOCKETS = 32;
/** Idle keep-alive sockets are closed after this long. */
const IDLE_SOCKET_MS = 30_000;
/** What can travel in a header: visible ASCII. */
const SENDABLE_TOKEN = /^[\x21-\x7e]+$/;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * Secrets from HashiCorp Vault's KV engine, read over HTTP with the `X-Vault-Token` header. As the
 * original Rhythm, secret `db/password` of job `g/p/*` is the `value` field of the secret at
 * `<root>g/p/db/password`:
 * - KV v1: `GET /v1/<root>g/p/db/password`, value in `data.value`;
 * - KV v2: `GET /v1/<mount>/data/<rest of root>g/p/db/password`, value in `data.data.value`
 *   (latest version), the mount being the first segment of root.
 * Each read is bounded by timeoutMs (the original had no bound and stalled launches). Nothing is
 * cached, so a rotated secret applies to the next launch. Neither the token nor a value is ever put
 * in an error message; the store logs nothing.
 */
export class VaultSecretStore implements SecretStore {
  readonly kvVersion: VaultKvVersion;
  readonly timeoutMs: number;
  readonly base: URL;
  /** The root as used, with one trailing slash: `secret/rhythm/`. */
  readonly root: string;
  private readonly basePath: string;
  private readonly rootSegments: readonly string[];
  private readonly token: string;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;

  constructor(options: VaultSecretStoreOptions) {
    if (!options.addr) throw new Error('Vault address not set');
    let base: URL;
    try {
      base = new URL(options.addr);
    } catch {
      throw new Error(`Vault address '${options.addr}' is not a URL`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`Vault address '${options.addr}' must be an http:// or https:// URL`);
    }
    if (!options.token) throw new Error('Vault token not set');
    if (!SENDABLE_TOKEN.test(options.token)) {
      throw new Error('the Vault token has characters a header cannot carry');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_VAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new Error('the Vault timeout must be a positive whole number of milliseconds');
    }
    const kvVersion = options.kvVersion ?? 1;
    if (kvVersion !== 1 && kvVersion !== 2) throw new Error('the Vault KV version must be 1 or 2');
    this.rootSegments = parseRoot(options.root ?? DEFAULT_VAULT_ROOT);
    this.root = `${this.rootSegments.join('/')}/`;
    this.base = base;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = timeoutMs;
    this.kvVersion = kvVersion;
    const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS };
    if (base.protocol === 'https:') {
      const ca = options.caFile ? readCa(options.caFile) : undefined;
      this.agent = new https.Agent({ ...agentOptions, ...(ca ? { ca } : {}) });
      this.request = https.request;
    } else {
      if (options.caFile) throw new Error('a Vault CA file needs an https:// address');
      this.agent = new http.Agent(agentOptions);
      this.request = http.request;
    }
  }

  async read(jobId: JobId, path: string): Promise<string> {
    const segments = secretPathSegments(path, jobId);
    const logical = this.logicalPath([jobId.group, jobId.project, ...segments]);
    const fail = (reason: string) =>
      new SecretReadError(path, reason, undefined, `Vault ${logical}`);
    const answer = await this.get(`${this.basePath}/v1/${logical}`, fail);
    switch (answer.status) {
      case 200:
        return this.valueOf(answer.body, fail);
      case 204:
      case 404:
        throw fail('secret not found');
      case 403:
        throw fail('permission denied');
      default:
        throw fail(`Vault answered HTTP ${answer.status}${errorsOf(answer.body)}`);
    }
  }

  /** Closes every connection, reads in flight included: for shutdown. */
  async close(): Promise<void> {
    this.agent.destroy();
  }

  /** The Vault API path (after `/v1/`) of a secret, every segment URL-encoded. */
  private logicalPath(tail: readonly string[]): string {
    const [mount, ...rest] = this.rootSegments;
    const segments =
      this.kvVersion === 2 ? [mount, 'data', ...rest, ...tail] : [...this.rootSegments, ...tail];
    return segments.map(encodeURIComponent).join('/');
  }

  private valueOf(body: string, fail: (reason: string) => SecretReadError): string {
    let document: unknown;
    try {
      document = JSON.parse(body);
    } catch {
      // Not echoed: the body may hold the secret.
      throw fail('Vault answered with a body that is not JSON');
    }
    let data = field(document, 'data');
    if (this.kvVersion === 2) data = field(data, 'data');
    // An empty or deleted secret: the Go client the original used saw no secret either.
    if (!isObject(data)) throw fail('secret not found');
    const value = data.value;
    if (value === undefined || value === null) throw fail("secret's value not found");
    if (typeof value !== 'string') throw fail("secret's value is not string");
    return value;
  }

  private get(path: string, fail: (reason: string) => SecretReadError): Promise<Answer> {
    return this.attempt(path, fail, Date.now() + this.timeoutMs, true);
  }

  /** One GET, retried once when a kept-alive socket turned out to be closed by Vault. */
  private attempt(
    path: string,
    fail: (reason: string) => SecretReadError,
    deadline: number,
    mayRetry: boolean,
  ): Promise<Answer> {
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
          headers: { 'X-Vault-Token': this.token, Accept: 'application/json' },
        });
      } catch (error) {
        reject(fail(`cannot send the request to Vault: ${messageOf(error)}`));
        return;
      }
      let done = false;
      const settle = (outcome: () => void): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(
        () => {
          settle(() => reject(fail(`Vault did not answer within ${this.timeoutMs} ms`)));
          req.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );

      req.on('error', (error: NodeJS.ErrnoException) => {
        if (done) return;
        if (mayRetry && req.reusedSocket && error.code === 'ECONNRESET') {
          settle(() => resolve(this.attempt(path, fail, deadline, false)));
          return;
        }
        settle(() =>
          reject(fail(`Vault at ${this.base.origin} is unreachable: ${messageOf(error)}`)),
        );
      });

      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            settle(() => reject(fail('Vault answered with an oversized body')));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          settle(() => resolve({ status: res.statusCode ?? 0, body }));
        });
        res.on('error', () => settle(() => reject(fail("Vault's answer was cut short"))));
        res.on('close', () => {
          if (!res.complete) settle(() => reject(fail("Vault's answer was cut short")));
        });
      });

      req.end();
    });
  }
}

/** Root segments without the slashes around them: `secret/rhythm/` → [`secret`, `rhythm`]. */
function parseRoot(root: string): string[] {
  const trimmed = root.replace(/^\/+|\/+$/g, '');
  const segments = trimmed.split('/');
  if (trimmed === '' || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`Vault root '${root}' must be a path like secret/rhythm/`);
  }
  return segments;
}

function readCa(file: string): string {
  let ca: string;
  try {
    ca = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the Vault CA file ${file}: ${messageOf(error)}`);
  }
  // Fails at start-up rather than at the first launch when the file holds no certificate.
  try {
    new X509Certificate(ca);
  } catch {
    throw new Error(`the Vault CA file ${file} holds no PEM certificate`);
  }
  return ca;
}

/** Vault's `errors` of an error answer, e.g. `: Vault is sealed`; bounded, they are not secret. */
function errorsOf(body: string): string {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return '';
  }
  const errors = field(document, 'errors');
  if (!Array.isArray(errors)) return '';
  const text = errors.filter((e): e is string => typeof e === 'string').join('; ');
  if (text === '') return '';
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Also for errors of another realm (Jest's), which fail `instanceof Error`. */
function messageOf(error: unknown): string {
  const message: unknown = isObject(error) ? error.message : undefined;
  return typeof message === 'string' ? message : String(error);
}
