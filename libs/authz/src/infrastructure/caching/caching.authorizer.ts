import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Authorizer, CredentialScheme } from '../../application/ports/authorizer.port';
import type { AccessLevel, ProjectRef } from '../../domain/access-level';
import type { Credentials } from '../../domain/credentials';

export const DEFAULT_AUTHZ_CACHE_TTL_MS = 30_000;
export const DEFAULT_AUTHZ_CACHE_MAX_ENTRIES = 10_000;

export interface CachingAuthorizerOptions {
  /** How long a decision is reused; 0 disables the cache. Default 30 s. */
  readonly ttlMs?: number;
  /** Decisions kept at most; the oldest are evicted first. Default 10,000. */
  readonly maxEntries?: number;
  /** Milliseconds of a monotonic clock; tests inject a fake one. */
  readonly now?: () => number;
}

interface Cached {
  readonly level: AccessLevel;
  readonly expiresAt: number;
}

/**
 * Reuses another authorizer's decisions (`none` included) per credential and group/project for
 * ttlMs, so a listing of many jobs, or a burst of requests, asks GitLab or LDAP once. Keys are
 * SHA-256 digests: no raw token or password is kept, and a changed password or token is a
 * different key. Errors are never cached; concurrent identical lookups share one call.
 */
export class CachingAuthorizer implements Authorizer {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Insertion order is age order: the first entry is the oldest. */
  private readonly decisions = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<AccessLevel>>();
  /** Bumped by clear(), so lookups that started before it are not remembered. */
  private generation = 0;

  constructor(
    private readonly inner: Authorizer,
    options: CachingAuthorizerOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_AUTHZ_CACHE_TTL_MS;
    this.maxEntries = options.maxEntries ?? DEFAULT_AUTHZ_CACHE_MAX_ENTRIES;
    this.now = options.now ?? (() => performance.now());
    if (!(this.ttlMs >= 0)) throw new Error('the authorization cache TTL must be 0 or more');
    if (!(this.maxEntries >= 1)) throw new Error('the authorization cache needs room for 1 entry');
  }

  get backend(): string {
    return this.inner.backend;
  }

  get scheme(): CredentialScheme {
    return this.inner.scheme;
  }

  /** Decisions currently held (expired ones included until looked up or evicted). */
  get size(): number {
    return this.decisions.size;
  }

  async accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel> {
    if (this.ttlMs === 0) return this.inner.accessLevel(credentials, ref);
    return this.decide(cacheKey(credentials, ref), () => this.inner.accessLevel(credentials, ref));
  }

  /** Remembered as a decision of its own (rejections are not remembered, as for access levels). */
  async authenticate(credentials: Credentials): Promise<void> {
    if (this.ttlMs === 0) return this.inner.authenticate(credentials);
    await this.decide(cacheKey(credentials, AUTHENTICATION), () =>
      this.inner.authenticate(credentials).then(() => 'none' as const),
    );
  }

  private async decide(key: string, ask: () => Promise<AccessLevel>): Promise<AccessLevel> {
    const cached = this.decisions.get(key);
    if (cached) {
      if (cached.expiresAt > this.now()) return cached.level;
      this.decisions.delete(key);
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;

    const generation = this.generation;
    // A decision is as old as the question: its age counts from when the backend was asked.
    const expiresAt = this.now() + this.ttlMs;
    const shared: Promise<AccessLevel> = ask()
      .then((level) => {
        const current = this.generation === generation && expiresAt > this.now();
        if (current) this.remember(key, { level, expiresAt });
        return level;
      })
      .finally(() => {
        if (this.inFlight.get(key) === shared) this.inFlight.delete(key);
      });
    this.inFlight.set(key, shared);
    return shared;
  }

  /** Forgets every decision (e.g. after an ACL change); lookups under way are not remembered. */
  clear(): void {
    this.generation += 1;
    this.decisions.clear();
    this.inFlight.clear();
  }

  async close(): Promise<void> {
    this.clear();
    await this.inner.close?.();
  }

  private remember(key: string, decision: Cached): void {
    this.decisions.delete(key);
    this.decisions.set(key, decision);
    while (this.decisions.size > this.maxEntries) {
      const oldest = this.decisions.keys().next();
      if (oldest.done) break;
      this.decisions.delete(oldest.value);
    }
  }
}

/**
 * SHA-256 over the credential's kind and secrets, then group and project. Each field is
 * length-prefixed, so no two different credentials (say a user name and password containing
 * NUL) can run together into the same key.
 */
/** The key of an authentication: no group name can hold a NUL, so it is no project's. */
const AUTHENTICATION: ProjectRef = { group: '\0authenticated', project: '' };

function cacheKey(credentials: Credentials, ref: ProjectRef): string {
  const hash = createHash('sha256');
  const field = (value: string) => {
    hash.update(`${Buffer.byteLength(value, 'utf8')}\0`);
    hash.update(value, 'utf8');
    hash.update('\0');
  };
  field(credentials.kind);
  switch (credentials.kind) {
    case 'anonymous':
      break;
    case 'token':
      field(credentials.token);
      break;
    case 'basic':
      field(credentials.username);
      field(credentials.password);
      break;
  }
  field(ref.group);
  field(ref.project);
  return hash.digest('base64');
}
