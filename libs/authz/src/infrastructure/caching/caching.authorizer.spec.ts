import type { Authorizer } from '../../application/ports/authorizer.port';
import type { AccessLevel, ProjectRef } from '../../domain/access-level';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import { CachingAuthorizer } from './caching.authorizer';

const ALICE: Credentials = { kind: 'basic', username: 'alice', password: 'first-password' };
const TOKEN: Credentials = { kind: 'token', token: 'glpat-0123456789abcdef' };
const APP: ProjectRef = { group: 'team', project: 'app' };

interface Call {
  readonly credentials: Credentials;
  readonly ref: ProjectRef;
}

/** An inner authorizer whose answers the test decides, call by call if it wants. */
class ScriptedAuthorizer implements Authorizer {
  readonly backend = 'scripted';
  readonly scheme = 'basic' as const;
  readonly calls: Call[] = [];
  closed = false;
  /** The next answers, in order; when empty, `level`. */
  readonly queue: (() => Promise<AccessLevel>)[] = [];
  level: AccessLevel = 'readonly';

  async accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel> {
    this.calls.push({ credentials, ref });
    const next = this.queue.shift();
    return next ? next() : this.level;
  }

  readonly authentications: Credentials[] = [];
  /** Credentials the backend does not know. */
  readonly strangers = new Set<Credentials>();

  async authenticate(credentials: Credentials): Promise<void> {
    this.authentications.push(credentials);
    if (this.strangers.has(credentials)) {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'stranger');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CachingAuthorizer', () => {
  let inner: ScriptedAuthorizer;
  let clock: number;
  const now = () => clock;

  beforeEach(() => {
    inner = new ScriptedAuthorizer();
    clock = 1_000;
  });

  it('delegates backend and scheme to the inner authorizer', () => {
    const cache = new CachingAuthorizer(inner, { now });
    expect(cache.backend).toBe('scripted');
    expect(cache.scheme).toBe('basic');
  });

  it('serves a second identical lookup from the cache', async () => {
    const cache = new CachingAuthorizer(inner, { ttlMs: 30_000, now });
    await expect(cache.accessLevel(ALICE, APP)).resolves.toBe('readonly');
    inner.level = 'readwrite';
    await expect(cache.accessLevel({ ...ALICE }, { ...APP })).resolves.toBe('readonly');
    expect(inner.calls).toHaveLength(1);
  });

  it('caches none as well', async () => {
    inner.level = 'none';
    const cache = new CachingAuthorizer(inner, { now });
    await expect(cache.accessLevel(TOKEN, APP)).resolves.toBe('none');
    await expect(cache.accessLevel(TOKEN, APP)).resolves.toBe('none');
    expect(inner.calls).toHaveLength(1);
  });

  it('asks again once the ttl has passed', async () => {
    const cache = new CachingAuthorizer(inner, { ttlMs: 30_000, now });
    await cache.accessLevel(ALICE, APP);
    inner.level = 'readwrite';
    clock += 29_999;
    await expect(cache.accessLevel(ALICE, APP)).resolves.toBe('readonly');
    expect(inner.calls).toHaveLength(1);
    clock += 1;
    await expect(cache.accessLevel(ALICE, APP)).resolves.toBe('readwrite');
    expect(inner.calls).toHaveLength(2);
  });

  it('defaults to a 30 s ttl', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    await cache.accessLevel(ALICE, APP);
    clock += 29_000;
    await cache.accessLevel(ALICE, APP);
    expect(inner.calls).toHaveLength(1);
    clock += 1_000;
    await cache.accessLevel(ALICE, APP);
    expect(inner.calls).toHaveLength(2);
  });

  it('counts the ttl from when the backend was asked', async () => {
    const cache = new CachingAuthorizer(inner, { ttlMs: 1_000, now });
    const slow = deferred<AccessLevel>();
    inner.queue.push(() => slow.promise);
    const first = cache.accessLevel(ALICE, APP);
    clock += 600;
    slow.resolve('readwrite');
    await expect(first).resolves.toBe('readwrite');
    clock += 400;
    inner.level = 'none';
    await expect(cache.accessLevel(ALICE, APP)).resolves.toBe('none');
    expect(inner.calls).toHaveLength(2);
  });

  it.each<[string, Credentials, Credentials]>([
    ['another password', ALICE, { kind: 'basic', username: 'alice', password: 'second-password' }],
    ['another user', ALICE, { kind: 'basic', username: 'bob', password: 'first-password' }],
    ['another token', TOKEN, { kind: 'token', token: 'glpat-0123456789abcdeX' }],
    [
      'a token equal to a password',
      { kind: 'token', token: 'x' },
      { kind: 'basic', username: '', password: 'x' },
    ],
    [
      'NUL moved between user name and password',
      { kind: 'basic', username: 'a\0b', password: 'c' },
      { kind: 'basic', username: 'a', password: 'b\0c' },
    ],
  ])('asks again for %s', async (_name, first, second) => {
    const cache = new CachingAuthorizer(inner, { now });
    inner.queue.push(async () => 'readwrite');
    await expect(cache.accessLevel(first, APP)).resolves.toBe('readwrite');
    inner.level = 'none';
    await expect(cache.accessLevel(second, APP)).resolves.toBe('none');
    expect(inner.calls.map((call) => call.credentials)).toEqual([first, second]);
  });

  it.each<[string, ProjectRef]>([
    ['another project', { group: 'team', project: 'web' }],
    ['another group', { group: 'ops', project: 'app' }],
    ['the same text split differently', { group: 'team/a', project: 'pp' }],
  ])('asks again for %s', async (_name, other) => {
    const cache = new CachingAuthorizer(inner, { now });
    await cache.accessLevel(ALICE, { group: 'team', project: 'a/pp' });
    await cache.accessLevel(ALICE, other);
    expect(inner.calls).toHaveLength(2);
  });

  it('does not cache errors', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    inner.queue.push(async () => {
      throw new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'GitLab answered HTTP 502');
    });
    inner.queue.push(async () => {
      throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'Invalid credentials');
    });
    await expect(cache.accessLevel(ALICE, APP)).rejects.toMatchObject({
      code: AuthzErrorCode.BACKEND_UNAVAILABLE,
    });
    await expect(cache.accessLevel(ALICE, APP)).rejects.toMatchObject({
      code: AuthzErrorCode.INVALID_CREDENTIALS,
    });
    await expect(cache.accessLevel(ALICE, APP)).resolves.toBe('readonly');
    expect(inner.calls).toHaveLength(3);
    expect(cache.size).toBe(1);
  });

  it('does not cache an inner authorizer that throws synchronously', async () => {
    const throwing: Authorizer = {
      backend: 'throwing',
      scheme: 'token',
      accessLevel: () => {
        throw new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'down');
      },
      authenticate: () => {
        throw new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'down');
      },
    };
    const cache = new CachingAuthorizer(throwing, { now });
    await expect(cache.accessLevel(TOKEN, APP)).rejects.toThrow('down');
    await expect(cache.accessLevel(TOKEN, APP)).rejects.toThrow('down');
    expect(cache.size).toBe(0);
  });

  it('shares one inner call between concurrent identical lookups', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    const answer = deferred<AccessLevel>();
    inner.queue.push(() => answer.promise);
    const lookups = Array.from({ length: 50 }, () => cache.accessLevel({ ...TOKEN }, { ...APP }));
    answer.resolve('readwrite');
    await expect(Promise.all(lookups)).resolves.toEqual(Array(50).fill('readwrite'));
    expect(inner.calls).toHaveLength(1);
  });

  it('shares a failure between concurrent lookups, then asks again', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    const answer = deferred<AccessLevel>();
    inner.queue.push(() => answer.promise);
    const lookups = [cache.accessLevel(TOKEN, APP), cache.accessLevel(TOKEN, APP)];
    answer.reject(new AuthzError(AuthzErrorCode.BACKEND_UNAVAILABLE, 'LDAP is down'));
    for (const lookup of lookups) await expect(lookup).rejects.toThrow('LDAP is down');
    expect(inner.calls).toHaveLength(1);
    await expect(cache.accessLevel(TOKEN, APP)).resolves.toBe('readonly');
    expect(inner.calls).toHaveLength(2);
  });

  it('does not share between concurrent lookups of different projects', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    await Promise.all([
      cache.accessLevel(TOKEN, APP),
      cache.accessLevel(TOKEN, { group: 'team', project: 'web' }),
    ]);
    expect(inner.calls).toHaveLength(2);
  });

  it('is a plain pass-through with ttl 0', async () => {
    const cache = new CachingAuthorizer(inner, { ttlMs: 0, now });
    await cache.accessLevel(ALICE, APP);
    await cache.accessLevel(ALICE, APP);
    await Promise.all([cache.accessLevel(ALICE, APP), cache.accessLevel(ALICE, APP)]);
    expect(inner.calls).toHaveLength(4);
    expect(cache.size).toBe(0);
  });

  it('keeps at most maxEntries decisions, evicting the oldest', async () => {
    const cache = new CachingAuthorizer(inner, { maxEntries: 3, now });
    const ref = (project: string): ProjectRef => ({ group: 'g', project });
    for (const project of ['a', 'b', 'c', 'd']) await cache.accessLevel(TOKEN, ref(project));
    expect(cache.size).toBe(3);
    expect(inner.calls).toHaveLength(4);
    // b, c and d are still cached; a was evicted.
    for (const project of ['b', 'c', 'd']) await cache.accessLevel(TOKEN, ref(project));
    expect(inner.calls).toHaveLength(4);
    await cache.accessLevel(TOKEN, ref('a'));
    expect(inner.calls).toHaveLength(5);
    expect(inner.calls.at(-1)?.ref).toEqual(ref('a'));
    expect(cache.size).toBe(3);
  });

  it('bounds its size by the default of 10,000 entries', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    for (let i = 0; i < 10_005; i += 1) {
      await cache.accessLevel(TOKEN, { group: 'g', project: `p${i}` });
    }
    expect(cache.size).toBe(10_000);
  });

  it('keeps no raw secret in its keys', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    await cache.accessLevel(ALICE, APP);
    await cache.accessLevel(TOKEN, APP);
    const keys = [...(cache as unknown as { decisions: Map<string, unknown> }).decisions.keys()];
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).not.toContain('first-password');
      expect(key).not.toContain('glpat-0123456789abcdef');
      expect(key).not.toContain('alice');
    }
  });

  it('forgets everything on clear(), including lookups under way', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    await cache.accessLevel(ALICE, APP);
    const slow = deferred<AccessLevel>();
    inner.queue.push(() => slow.promise);
    const underWay = cache.accessLevel(TOKEN, APP);
    cache.clear();
    slow.resolve('readwrite');
    await expect(underWay).resolves.toBe('readwrite');
    expect(cache.size).toBe(0);
    await cache.accessLevel(ALICE, APP);
    await cache.accessLevel(TOKEN, APP);
    expect(inner.calls).toHaveLength(4);
  });

  it('closes the inner authorizer', async () => {
    const cache = new CachingAuthorizer(inner, { now });
    await cache.close();
    expect(inner.closed).toBe(true);
  });

  it.each([
    ['a negative ttl', { ttlMs: -1 }],
    ['no room', { maxEntries: 0 }],
  ])('refuses %s', (_name, options) => {
    expect(() => new CachingAuthorizer(inner, options)).toThrow();
  });
});

describe('CachingAuthorizer: authentication', () => {
  it('remembers a successful authentication apart from access decisions, and never a failure', async () => {
    const inner = new ScriptedAuthorizer();
    inner.strangers.add(TOKEN);
    const cache = new CachingAuthorizer(inner, { ttlMs: 30_000 });
    await cache.authenticate(ALICE);
    await cache.authenticate(ALICE);
    expect(inner.authentications).toEqual([ALICE]);
    // An access decision is not an authentication, nor the other way round.
    expect(await cache.accessLevel(ALICE, APP)).toBe('readonly');
    expect(inner.calls).toHaveLength(1);
    await expect(cache.authenticate(TOKEN)).rejects.toMatchObject({
      code: AuthzErrorCode.INVALID_CREDENTIALS,
    });
    await expect(cache.authenticate(TOKEN)).rejects.toMatchObject({
      code: AuthzErrorCode.INVALID_CREDENTIALS,
    });
    expect(inner.authentications).toEqual([ALICE, TOKEN, TOKEN]);
  });
});
