import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeGitLab } from '../../../../../test/support/fake-gitlab';
import { freePort } from '../../../../../test/support/free-port';
import { AuthzError, AuthzErrorCode } from '../../domain/authz.errors';
import type { Credentials } from '../../domain/credentials';
import { GitLabAuthorizer } from './gitlab.authorizer';

const MEMBER = 'glpat-member-0123456789abcdef';
const SLOW = 'glpat-slow-0123456789abcdefgh';
const UNKNOWN = 'glpat-unknown-0123456789abcd';

const token = (value: string): Credentials => ({ kind: 'token', token: value });

/** The AuthzError a promise rejects with; fails the test when it resolves or rejects otherwise. */
async function authzErrorOf(promise: Promise<unknown>): Promise<AuthzError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthzError) return error;
    throw error;
  }
  throw new Error('expected an AuthzError, but the promise resolved');
}

/** Everything of an error a log line could print: message, stack and causes. */
function printable(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    parts.push(current.message, current.stack ?? '');
    current = current.cause;
  }
  return parts.join('\n');
}

describe('GitLabAuthorizer', () => {
  let gitlab: FakeGitLab;
  let authorizer: GitLabAuthorizer;
  const others: { close(): Promise<void> }[] = [];
  const stoppables: FakeGitLab[] = [];

  beforeAll(async () => {
    gitlab = await FakeGitLab.start({
      tokens: {
        [MEMBER]: {
          'dev/p': { project_access: 30, group_access: null },
          'maintainer/p': { project_access: 40, group_access: null },
          'owner/p': { project_access: 50, group_access: null },
          'reporter/p': { project_access: 20, group_access: null },
          'guest/p': { project_access: 10, group_access: null },
          'zero/p': { project_access: 0, group_access: null },
          'between/p': { project_access: 25, group_access: null },
          'groupdev/p': { project_access: null, group_access: 30 },
          'groupreporter/p': { project_access: null, group_access: 20 },
          'grouponly/p': { group_access: 40 },
          'mixed/p': { project_access: 20, group_access: 40 },
          'mixed2/p': { project_access: 40, group_access: 10 },
          'reporterguest/p': { project_access: 10, group_access: 20 },
          'nulls/p': { project_access: null, group_access: null },
          'empty/p': {},
          'public/p': 'no-permissions',
          'my group/a+b': { project_access: 30 },
        },
        [SLOW]: { 'dev/p': { project_access: 30 } },
      },
      delaysMs: { [SLOW]: 5_000 },
    });
    stoppables.push(gitlab);
    authorizer = new GitLabAuthorizer({ addr: gitlab.url, timeoutMs: 2_000 });
    others.push(authorizer);
  });

  afterAll(async () => {
    for (const closable of others) await closable.close();
    for (const fake of stoppables) await fake.stop();
  });

  afterEach(() => gitlab.recover());

  it('has the gitlab backend and the token scheme', () => {
    expect(authorizer.backend).toBe('gitlab');
    expect(authorizer.scheme).toBe('token');
  });

  it.each([
    ['Developer (30)', 'readwrite', 'dev'],
    ['Maintainer (40)', 'readwrite', 'maintainer'],
    ['Owner (50)', 'readwrite', 'owner'],
    ['Reporter (20)', 'readonly', 'reporter'],
    ['Guest (10)', 'none', 'guest'],
    ['level 0', 'none', 'zero'],
    ['level 25 (neither Reporter nor Developer)', 'none', 'between'],
    ['group access 30, project access null', 'readwrite', 'groupdev'],
    ['group access 20, project access null', 'readonly', 'groupreporter'],
    ['group access 40, project access missing', 'readwrite', 'grouponly'],
    ['project 20, group 40: the higher wins', 'readwrite', 'mixed'],
    ['project 40, group 10: the higher wins', 'readwrite', 'mixed2'],
    ['project 10, group 20: the higher wins', 'readonly', 'reporterguest'],
    ['both accesses null', 'none', 'nulls'],
    ['an empty permissions object', 'none', 'empty'],
    ['no permissions object (the original crashed)', 'none', 'public'],
  ])('maps %s to %s', async (_name, expected, group) => {
    await expect(authorizer.accessLevel(token(MEMBER), { group, project: 'p' })).resolves.toBe(
      expected,
    );
  });

  it('answers none for an unknown token (GitLab 401)', async () => {
    await expect(
      authorizer.accessLevel(token(UNKNOWN), { group: 'dev', project: 'p' }),
    ).resolves.toBe('none');
    expect(gitlab.seen.at(-1)?.privateToken).toBe(UNKNOWN);
  });

  it('authenticates a token GitLab knows with GET /user, and refuses one it does not (401)', async () => {
    await expect(authorizer.authenticate(token(MEMBER))).resolves.toBeUndefined();
    expect(gitlab.seen.at(-1)).toMatchObject({ url: '/api/v4/user', privateToken: MEMBER });
    await expect(authorizer.authenticate(token(UNKNOWN))).rejects.toMatchObject({
      code: AuthzErrorCode.INVALID_CREDENTIALS,
    });
    gitlab.failWith(502);
    await expect(authorizer.authenticate(token(MEMBER))).rejects.toMatchObject({
      code: AuthzErrorCode.BACKEND_UNAVAILABLE,
    });
  });

  it('answers none for an unknown project (GitLab 404)', async () => {
    await expect(
      authorizer.accessLevel(token(MEMBER), { group: 'dev', project: 'missing' }),
    ).resolves.toBe('none');
    expect(gitlab.seen.at(-1)?.url).toBe('/api/v4/projects/dev%2Fmissing');
  });

  it('URL-encodes group/project into one path segment', async () => {
    await expect(
      authorizer.accessLevel(token(MEMBER), { group: 'dev', project: 'p' }),
    ).resolves.toBe('readwrite');
    expect(gitlab.seen.at(-1)?.url).toBe('/api/v4/projects/dev%2Fp');

    await expect(
      authorizer.accessLevel(token(MEMBER), { group: 'my group', project: 'a+b' }),
    ).resolves.toBe('readwrite');
    expect(gitlab.seen.at(-1)?.url).toBe('/api/v4/projects/my%20group%2Fa%2Bb');
  });

  it('sends the token as PRIVATE-TOKEN and asks for JSON', async () => {
    await authorizer.accessLevel(token(MEMBER), { group: 'reporter', project: 'p' });
    const request = gitlab.seen.at(-1);
    expect(request?.method).toBe('GET');
    expect(request?.privateToken).toBe(MEMBER);
    expect(request?.accept).toBe('application/json');
  });

  it('reuses its connection for consecutive lookups (keep-alive)', async () => {
    const fake = await FakeGitLab.start({
      tokens: { [MEMBER]: { 'dev/p': { project_access: 30 } } },
    });
    stoppables.push(fake);
    const own = new GitLabAuthorizer({ addr: fake.url, timeoutMs: 2_000 });
    others.push(own);
    for (let i = 0; i < 3; i += 1) {
      await expect(own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' })).resolves.toBe(
        'readwrite',
      );
    }
    expect(fake.requests).toBe(3);
    expect(fake.connections).toBe(1);
  });

  it.each([
    ['a trailing slash', '/'],
    ['an address already ending in /api/v4', '/api/v4'],
    ['an address ending in /api/v4/', '/api/v4/'],
  ])('builds the API path from %s', async (_name, suffix) => {
    const own = new GitLabAuthorizer({ addr: `${gitlab.url}${suffix}`, timeoutMs: 2_000 });
    others.push(own);
    await expect(own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' })).resolves.toBe(
      'readwrite',
    );
    expect(gitlab.seen.at(-1)?.url).toBe('/api/v4/projects/dev%2Fp');
  });

  it('keeps a path prefix of the address (GitLab under a sub-path)', async () => {
    const own = new GitLabAuthorizer({ addr: `${gitlab.url}/gitlab`, timeoutMs: 2_000 });
    others.push(own);
    await own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' });
    expect(gitlab.seen.at(-1)?.url).toBe('/gitlab/api/v4/projects/dev%2Fp');
  });

  it.each([500, 502, 503, 403, 429, 302])(
    'answers BACKEND_UNAVAILABLE when GitLab answers %i, naming GitLab and the status',
    async (status) => {
      gitlab.failWith(status);
      const error = await authzErrorOf(
        authorizer.accessLevel(token(MEMBER), { group: 'dev', project: 'p' }),
      );
      expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
      expect(error.message).toContain('GitLab');
      expect(error.message).toContain(String(status));
      expect(printable(error)).not.toContain(MEMBER);
    },
  );

  it.each([
    ['not JSON', 'this is not json'],
    ['truncated JSON', '{"id": 42, "permissions": {'],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
  ])('answers BACKEND_UNAVAILABLE for a 200 body that is %s', async (_name, body) => {
    gitlab.override = { status: 200, body };
    const error = await authzErrorOf(
      authorizer.accessLevel(token(MEMBER), { group: 'dev', project: 'p' }),
    );
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
    expect(error.message).toContain('GitLab');
    expect(printable(error)).not.toContain(MEMBER);
  });

  it('answers BACKEND_UNAVAILABLE when GitLab is slower than timeoutMs', async () => {
    const own = new GitLabAuthorizer({ addr: gitlab.url, timeoutMs: 200 });
    others.push(own);
    const error = await authzErrorOf(own.accessLevel(token(SLOW), { group: 'dev', project: 'p' }));
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
    expect(error.message).toMatch(/GitLab did not answer within 200 ms/);
    expect(printable(error)).not.toContain(SLOW);
  });

  it('answers BACKEND_UNAVAILABLE when nobody listens', async () => {
    const port = await freePort();
    const own = new GitLabAuthorizer({ addr: `http://127.0.0.1:${port}`, timeoutMs: 2_000 });
    others.push(own);
    const error = await authzErrorOf(
      own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' }),
    );
    expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
    expect(error.message).toContain('GitLab');
    expect(printable(error)).not.toContain(MEMBER);
  });

  it.each<[string, Credentials]>([
    ['anonymous', { kind: 'anonymous' }],
    ['Basic', { kind: 'basic', username: 'alice', password: 'secret' }],
    ['an empty token', { kind: 'token', token: '' }],
  ])('refuses %s credentials with MISSING_CREDENTIALS without asking GitLab', async (_n, creds) => {
    const before = gitlab.requests;
    const error = await authzErrorOf(authorizer.accessLevel(creds, { group: 'dev', project: 'p' }));
    expect(error.code).toBe(AuthzErrorCode.MISSING_CREDENTIALS);
    expect(gitlab.requests).toBe(before);
  });

  it('refuses a token that cannot be a header value with INVALID_CREDENTIALS', async () => {
    const bad = 'glpat-with\nnewline-0123456789';
    const error = await authzErrorOf(
      authorizer.accessLevel(token(bad), { group: 'dev', project: 'p' }),
    );
    expect(error.code).toBe(AuthzErrorCode.INVALID_CREDENTIALS);
    expect(printable(error)).not.toContain(bad);
  });

  it.each([
    ['an empty address', '', /GitLab address not set/],
    ['a non-URL', 'not a url', /is not a URL/],
    ['a non-HTTP scheme', 'ftp://gitlab.example.com', /http:\/\/ or https:\/\//],
  ])('refuses %s at construction', (_name, addr, message) => {
    expect(() => new GitLabAuthorizer({ addr, timeoutMs: 1000 })).toThrow(message);
  });

  describe('over HTTPS', () => {
    let dir: string;
    let tlsGitLab: FakeGitLab;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rhythm-gitlab-tls-'));
      const keyFile = join(dir, 'key.pem');
      const certFile = join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
          ...['-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2'],
          ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ],
        { stdio: 'ignore' },
      );
      tlsGitLab = await FakeGitLab.start({
        tokens: { [MEMBER]: { 'dev/p': { project_access: 30 } } },
        tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') },
      });
      stoppables.push(tlsGitLab);
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('trusts GitLab through the CA of caCertFile', async () => {
      const own = new GitLabAuthorizer({
        addr: tlsGitLab.url,
        caCertFile: join(dir, 'cert.pem'),
        timeoutMs: 2_000,
      });
      others.push(own);
      await expect(own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' })).resolves.toBe(
        'readwrite',
      );
    });

    it('answers BACKEND_UNAVAILABLE for a certificate it does not trust', async () => {
      const own = new GitLabAuthorizer({ addr: tlsGitLab.url, timeoutMs: 2_000 });
      others.push(own);
      const error = await authzErrorOf(
        own.accessLevel(token(MEMBER), { group: 'dev', project: 'p' }),
      );
      expect(error.code).toBe(AuthzErrorCode.BACKEND_UNAVAILABLE);
      expect(printable(error)).not.toContain(MEMBER);
    });

    it('refuses a caCertFile without certificates at construction', () => {
      const empty = join(dir, 'empty.pem');
      writeFileSync(empty, 'no certificate here\n');
      expect(
        () => new GitLabAuthorizer({ addr: tlsGitLab.url, caCertFile: empty, timeoutMs: 1000 }),
      ).toThrow(/No certs appended/);
    });
  });
});
