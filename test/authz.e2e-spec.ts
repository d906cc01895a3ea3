import { DEFAULT_GROUP_FILTER, type Acl } from '@rhythm/authz';
import request from 'supertest';
import type { App } from 'supertest/types';
import { FakeGitLab } from './support/fake-gitlab';
import { SlapdServer, TEST_DIRECTORY_LDIF } from './support/slapd';
import { startTestApp, type TestApp } from './support/test-app';
import type { AuthConfig } from '../apps/api/src/config/rhythm-config';

/**
 * Every route under the tokens backend, for each level a caller can have on group `g`,
 * project `p`: the deny-by-default matrix. GitLab and LDAP decide levels differently
 * (their own specs), but reach the API through the same guard and filter.
 */
const TOKENS = {
  readwrite: 'rw-token-0123456789abcdef',
  readonly: 'ro-token-0123456789abcdef',
  none: 'no-token-0123456789abcdef',
};
const ACLS: Record<string, Acl> = {
  [TOKENS.readwrite]: { 'g/p': 'readwrite' },
  [TOKENS.readonly]: { g: 'readonly' as const, other: 'readwrite' },
  [TOKENS.none]: { other: 'readwrite' },
};

const JOB = {
  group: 'g',
  project: 'p',
  id: 'j',
  cpus: 1,
  mem: 16,
  cmd: 'true',
  schedule: { cron: '0 0 1 1 *' },
  container: { docker: { image: 'alpine' } },
};
const TASK = 'g:p:j:0f8fad5b-d9cb-469f-a165-70867728950e';

type Level = 'readonly' | 'readwrite';
interface Route {
  readonly method: 'get' | 'post' | 'put' | 'delete';
  readonly path: string;
  readonly body?: object;
  /** `authenticated`: any credentials the backend knows, whatever access they give. */
  readonly needs: Level | 'list' | 'authenticated';
  /** Status for a caller with enough access (the route itself may answer 404 etc.). */
  readonly ok: number;
}

const ROUTES: Route[] = [
  { method: 'get', path: '/api/v1/jobs', needs: 'list', ok: 200 },
  { method: 'get', path: '/api/v1/jobs/g', needs: 'list', ok: 200 },
  { method: 'get', path: '/api/v1/queue', needs: 'list', ok: 200 },
  { method: 'get', path: '/api/v1/jobs/g/p', needs: 'readonly', ok: 200 },
  { method: 'get', path: '/api/v1/jobs/g/p/j', needs: 'readonly', ok: 200 },
  { method: 'get', path: '/api/v1/jobs/g/p/j/tasks', needs: 'readonly', ok: 200 },
  { method: 'get', path: '/api/v1/jobs/g/p/j/schedule', needs: 'readonly', ok: 200 },
  { method: 'get', path: `/api/v1/jobs/g/p/j/tasks/${TASK}/logs`, needs: 'readonly', ok: 404 },
  // No Mesos master is configured here: a caller who gets past authentication learns only that.
  { method: 'get', path: '/api/v1/cluster', needs: 'authenticated', ok: 404 },
  // The task is not the job's current run: a caller allowed to kill learns only that.
  { method: 'post', path: `/api/v1/jobs/g/p/j/tasks/${TASK}/kill`, needs: 'readwrite', ok: 409 },
  {
    method: 'post',
    path: '/api/v1/jobs',
    body: { ...JOB, id: 'new' },
    needs: 'readwrite',
    ok: 204,
  },
  {
    method: 'put',
    path: '/api/v1/jobs/g/p/j',
    body: { cmd: 'false' },
    needs: 'readwrite',
    ok: 204,
  },
  { method: 'post', path: '/api/v1/jobs/g/p/j/pause', body: {}, needs: 'readwrite', ok: 204 },
  { method: 'post', path: '/api/v1/jobs/g/p/j/resume', needs: 'readwrite', ok: 204 },
  { method: 'post', path: '/api/v1/jobs/g/p/j/run', needs: 'readwrite', ok: 204 },
  { method: 'delete', path: '/api/v1/jobs/g/p/j', needs: 'readwrite', ok: 204 },
];

/** The LDAP backend on the suite's slapd and its test directory, with the given ACLs. */
function ldapAuth(
  slapd: SlapdServer,
  userAcl: Record<string, Acl>,
  groupAcl: Record<string, Acl>,
): AuthConfig {
  return {
    backend: 'ldap',
    ldap: {
      addrs: [slapd.url],
      userDn: `ou=people,${slapd.suffix}`,
      userAttr: 'uid',
      groupDn: `ou=groups,${slapd.suffix}`,
      groupAttr: 'cn',
      groupFilter: DEFAULT_GROUP_FILTER,
      startTls: false,
      timeoutMs: 2000,
      caseSensitiveNames: false,
      userAcl,
      groupAcl,
    },
  };
}

interface BackendCase {
  readonly name: string;
  /** Starts what the backend talks to; returns the auth settings and how to stop it. */
  setup(): Promise<{ auth: AuthConfig; teardown: () => Promise<void> }>;
  headers(level: 'none' | Level): Record<string, string>;
  readonly wrong: Record<string, string>;
  /** What wrong credentials get: GitLab answers an unknown token with no access (403). */
  readonly wrongAnswer: { status: number; errors: string[] };
  readonly challenge: RegExp;
}

const basicAuth = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});
const GITLAB_TOKENS = {
  none: 'glpat-guest-0123456789abcd',
  readonly: 'glpat-reporter-0123456789a',
  readwrite: 'glpat-developer-012345678',
};
const LDAP_USERS = { none: 'frank', readonly: 'bob', readwrite: 'alice' };
const LDAP_PASSWORDS: Record<string, string> = {
  frank: 'frank-pw',
  bob: 'bob-pw',
  alice: 'alice-pw',
};

const BACKENDS: BackendCase[] = [
  {
    name: 'tokens',
    setup: async () => ({
      auth: { backend: 'tokens', tokens: { tokens: ACLS } },
      teardown: async () => undefined,
    }),
    headers: (level) => ({ 'X-Token': TOKENS[level] }),
    wrong: { 'X-Token': 'wrong-token-0123456789abcdef' },
    wrongAnswer: { status: 401, errors: ['Invalid credentials'] },
    challenge: /X-Token/,
  },
  {
    name: 'gitlab',
    setup: async () => {
      const gitlab = await FakeGitLab.start({
        tokens: {
          [GITLAB_TOKENS.none]: { 'g/p': { project_access: 10, group_access: null } },
          [GITLAB_TOKENS.readonly]: { 'g/p': { project_access: 20, group_access: null } },
          [GITLAB_TOKENS.readwrite]: { 'g/p': { project_access: 30, group_access: null } },
        },
      });
      return {
        auth: { backend: 'gitlab', gitlab: { addr: gitlab.url, timeoutMs: 2000 } },
        teardown: () => gitlab.stop(),
      };
    },
    headers: (level) => ({ 'X-Token': GITLAB_TOKENS[level] }),
    wrong: { 'X-Token': 'glpat-unknown-0123456789' },
    wrongAnswer: { status: 403, errors: ['Forbidden'] },
    challenge: /X-Token/,
  },
  {
    name: 'ldap',
    setup: async () => {
      const slapd = await SlapdServer.start({ ldif: TEST_DIRECTORY_LDIF });
      return {
        auth: ldapAuth(slapd, {}, { devs: { 'g/p': 'readwrite' }, readers: { g: 'readonly' } }),
        teardown: () => slapd.stop(),
      };
    },
    headers: (level) => basicAuth(LDAP_USERS[level], LDAP_PASSWORDS[LDAP_USERS[level]]),
    wrong: basicAuth('alice', 'not-her-password'),
    wrongAnswer: { status: 401, errors: ['Invalid credentials'] },
    challenge: /^Basic realm="Rhythm"/,
  },
];

describe.each(BACKENDS)(
  'authorization with the $name backend: every route at every level',
  (backend) => {
    let testApp: TestApp;
    let http: App;
    let auth: AuthConfig;
    let teardown: () => Promise<void>;

    beforeAll(async () => {
      ({ auth, teardown } = await backend.setup());
    });

    afterAll(async () => {
      await teardown();
    });

    beforeEach(async () => {
      testApp = await startTestApp('embedded', undefined, { auth });
      http = testApp.app.getHttpServer() as App;
      const created = await request(http)
        .post('/api/v1/jobs')
        .set(backend.headers('readwrite'))
        .send(JOB);
      expect(created.status).toBe(204);
    });

    afterEach(async () => {
      await testApp.close();
    });

    const call = (route: Route, headers: Record<string, string>) => {
      const r = request(http)[route.method](route.path).set(headers);
      return route.body ? r.send(route.body) : r;
    };

    describe.each(ROUTES)('$method $path', (route) => {
      it('answers 401 with a challenge to a caller without credentials', async () => {
        const response = await call(route, {});
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ Errors: ['Credentials required'] });
        expect(response.headers['www-authenticate']).toMatch(backend.challenge);
      });

      it('refuses wrong credentials', async () => {
        const response = await call(route, backend.wrong);
        if (route.needs === 'authenticated') {
          // Even a backend that gives unknown credentials no access (GitLab) tells them apart here.
          expect(response.status).toBe(401);
          expect(response.body).toEqual({ Errors: ['Invalid credentials'] });
          expect(response.headers['www-authenticate']).toMatch(backend.challenge);
          return;
        }
        if (route.needs === 'list' && backend.wrongAnswer.status === 403) {
          // No access is no error for a listing: it lists nothing.
          expect(response.status).toBe(200);
          expect(response.body).toEqual([]);
          return;
        }
        expect(response.status).toBe(backend.wrongAnswer.status);
        expect(response.body).toEqual({ Errors: backend.wrongAnswer.errors });
      });

      it.each(['none', 'readonly', 'readwrite'] as const)('with %s access', async (level) => {
        const response = await call(route, backend.headers(level));
        if (route.needs === 'list') {
          expect(response.status).toBe(200);
          if (route.path === '/api/v1/queue') return;
          const listed = (response.body as Array<{ Group: string }>).map((item) => item.Group);
          expect(listed).toEqual(level === 'none' ? [] : ['g']);
          return;
        }
        const allowed =
          route.needs === 'authenticated' ||
          level === 'readwrite' ||
          (level === 'readonly' && route.needs === 'readonly');
        if (allowed) {
          expect(response.status).toBe(route.ok);
        } else {
          expect(response.status).toBe(403);
          expect(response.body).toEqual({ Errors: ['Forbidden'] });
        }
      });
    });
  },
);

describe('authorization with the tokens backend', () => {
  let testApp: TestApp;
  let http: App;

  beforeEach(async () => {
    testApp = await startTestApp('embedded', undefined, {
      auth: { backend: 'tokens', tokens: { tokens: ACLS } },
    });
    http = testApp.app.getHttpServer() as App;
    expect(
      (await request(http).post('/api/v1/jobs').set('X-Token', TOKENS.readwrite).send(JOB)).status,
    ).toBe(204);
  });

  afterEach(async () => {
    await testApp.close();
  });

  it('takes the token as a Bearer authorization too', async () => {
    const response = await request(http)
      .get('/api/v1/jobs/g/p/j')
      .set('Authorization', `Bearer ${TOKENS.readonly}`);
    expect(response.status).toBe(200);
  });

  it('keeps health, metrics and docs open', async () => {
    expect((await request(http).get('/api/v1/health')).status).toBe(200);
    expect((await request(http).get('/api/v1/metrics')).status).toBe(200);
    expect((await request(http).get('/docs-json')).status).toBe(200);
  });

  it('documents both security schemes and the 401 and 403 answers of every job route', async () => {
    const document = (await request(http).get('/docs-json')).body;
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['basic', 'token']);
    for (const [path, operations] of Object.entries<
      Record<string, { responses: Record<string, unknown> }>
    >(document.paths)) {
      if (!path.startsWith('/api/v1/jobs') && path !== '/api/v1/queue') continue;
      for (const operation of Object.values(operations)) {
        expect(operation.responses['401']).toBeDefined();
        expect(operation.responses['403']).toBeDefined();
      }
    }
  });
});

describe('a metrics token', () => {
  it('puts /api/v1/metrics behind the token when configured', async () => {
    const testApp = await startTestApp('embedded', undefined, {
      metricsToken: 'metrics-secret-0123456789',
    });
    const http = testApp.app.getHttpServer() as App;
    try {
      expect((await request(http).get('/api/v1/metrics')).status).toBe(401);
      expect((await request(http).get('/api/v1/metrics').set('X-Token', 'nope')).status).toBe(401);
      expect(
        (await request(http).get('/api/v1/metrics').set('X-Token', 'metrics-secret-0123456789'))
          .status,
      ).toBe(200);
      expect((await request(http).get('/api/v1/health')).status).toBe(200);
    } finally {
      await testApp.close();
    }
  });
});

describe('authorization with the GitLab backend', () => {
  const DEVELOPER = 'glpat-developer-0123456789';
  const REPORTER = 'glpat-reporter-01234567890';
  let gitlab: FakeGitLab;
  let testApp: TestApp;
  let http: App;

  beforeEach(async () => {
    gitlab = await FakeGitLab.start({
      tokens: {
        [DEVELOPER]: { 'g/p': { project_access: 30, group_access: null } },
        [REPORTER]: { 'g/p': { project_access: 20, group_access: null } },
      },
    });
    testApp = await startTestApp('embedded', undefined, {
      auth: { backend: 'gitlab', gitlab: { addr: gitlab.url, timeoutMs: 2000 } },
    });
    http = testApp.app.getHttpServer() as App;
  });

  afterEach(async () => {
    await testApp.close();
    await gitlab.stop();
  });

  it('lets a Developer write, a Reporter read, and an unknown token nothing', async () => {
    expect(
      (await request(http).post('/api/v1/jobs').set('X-Token', DEVELOPER).send(JOB)).status,
    ).toBe(204);
    expect((await request(http).get('/api/v1/jobs/g/p/j').set('X-Token', REPORTER)).status).toBe(
      200,
    );
    expect((await request(http).delete('/api/v1/jobs/g/p/j').set('X-Token', REPORTER)).status).toBe(
      403,
    );
    expect(
      (await request(http).get('/api/v1/jobs/g/p/j').set('X-Token', 'glpat-unknown-000000000'))
        .status,
    ).toBe(403);
    expect((await request(http).get('/api/v1/jobs/g/p/j')).status).toBe(401);
    const listed = await request(http).get('/api/v1/jobs').set('X-Token', REPORTER);
    expect((listed.body as Array<{ ID: string }>).map((job) => job.ID)).toEqual(['j']);
  });

  it('asks GitLab once per token and project while the decision is cached', async () => {
    await request(http).post('/api/v1/jobs').set('X-Token', DEVELOPER).send(JOB);
    const before = gitlab.requests;
    for (let i = 0; i < 5; i++) {
      expect((await request(http).get('/api/v1/jobs/g/p/j').set('X-Token', REPORTER)).status).toBe(
        200,
      );
    }
    expect(gitlab.requests - before).toBe(1);
  });

  it('answers 503 when GitLab fails, never 500', async () => {
    gitlab.failWith(500);
    const response = await request(http).get('/api/v1/jobs/g/p/j').set('X-Token', DEVELOPER);
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ Errors: ['Authorization backend unavailable'] });
  });
});

describe('authorization with the LDAP backend', () => {
  let slapd: SlapdServer;
  let testApp: TestApp;
  let http: App;
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  beforeAll(async () => {
    slapd = await SlapdServer.start({ ldif: TEST_DIRECTORY_LDIF });
  });

  afterAll(async () => {
    await slapd.stop();
  });

  beforeEach(async () => {
    testApp = await startTestApp('embedded', undefined, {
      auth: ldapAuth(
        slapd,
        { carol: { g: 'readonly' } },
        { devs: { 'g/p': 'readwrite' }, readers: { '*': 'readonly' } },
      ),
    });
    http = testApp.app.getHttpServer() as App;
  });

  afterEach(async () => {
    await testApp.close();
  });

  it('grants by group and user ACL over Basic credentials', async () => {
    expect(
      (
        await request(http)
          .post('/api/v1/jobs')
          .set('Authorization', basic('alice', 'alice-pw'))
          .send(JOB)
      ).status,
    ).toBe(204);
    expect(
      (
        await request(http)
          .get('/api/v1/jobs/g/p/j')
          .set('Authorization', basic('carol', 'carol-pw'))
      ).status,
    ).toBe(200);
    expect(
      (
        await request(http)
          .put('/api/v1/jobs/g/p/j')
          .set('Authorization', basic('carol', 'carol-pw'))
          .send({ cmd: 'x' })
      ).status,
    ).toBe(403);
    expect(
      (
        await request(http)
          .get('/api/v1/jobs/g/p/j')
          .set('Authorization', basic('frank', 'frank-pw'))
      ).status,
    ).toBe(403);
  });

  it('challenges with Basic for missing, wrong and empty passwords', async () => {
    for (const authorization of [
      undefined,
      basic('alice', 'wrong'),
      basic('alice', ''),
      basic('*)(uid=*', '*'),
    ]) {
      const call = request(http).get('/api/v1/jobs/g/p/j');
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Basic realm="Rhythm"/);
    }
  });

  it('answers 503 when LDAP is down', async () => {
    await slapd.kill();
    try {
      const response = await request(http)
        .get('/api/v1/jobs/g/p/j')
        .set('Authorization', basic('bob', 'bob-pw'));
      expect(response.status).toBe(503);
    } finally {
      await slapd.restart();
    }
  });
});
