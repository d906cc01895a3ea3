import request from 'supertest';
import type { App } from 'supertest/types';
import { RedisServer } from './support/redis-server';
import { startTestApp, type StoreKind, type TestApp } from './support/test-app';

const JOB = {
  id: 'id',
  group: 'group',
  project: 'project',
  cpus: 4,
  mem: 7168,
  cmd: 'echo $FOO',
  user: 'someone',
  env: { FOO: 'foo' },
  schedule: { cron: '*/1 * * * *' },
  container: { docker: { image: 'alpine:3.8' } },
};

const EXPECTED_JOB = {
  Group: 'group',
  Project: 'project',
  ID: 'id',
  Schedule: { Type: 'Cron', Cron: '*/1 * * * *' },
  Env: { FOO: 'foo' },
  Secrets: {},
  Container: { Type: 'Docker', Docker: { Image: 'alpine:3.8', ForcePullImage: false } },
  CPUs: 4,
  Mem: 7168,
  Disk: 0,
  Cmd: 'echo $FOO',
  User: 'someone',
  Shell: true,
  Arguments: [],
  Labels: {},
  MaxRetries: 0,
  State: 'Idle',
  LastStart: '0001-01-01T00:00:00Z',
  CurrentTaskID: '',
  CurrentAgentID: '',
  Retries: 0,
  NextStart: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/) as unknown,
};

let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['embedded', 'redis'])('jobs API on the %s store', (kind) => {
  let testApp: TestApp;
  let http: App;

  beforeEach(async () => {
    testApp = await startTestApp(kind, redis.url);
    http = testApp.app.getHttpServer() as App;
  });

  afterEach(async () => {
    await testApp.close();
  });

  const create = (body: unknown) =>
    request(http)
      .post('/api/v1/jobs')
      .send(body as object);

  function expectErrors(response: request.Response, status: number, ...messages: RegExp[]): void {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(Array.isArray(response.body.Errors)).toBe(true);
    expect(response.body.Errors.length).toBeGreaterThan(0);
    for (const message of messages) {
      expect(response.body.Errors).toEqual(
        expect.arrayContaining([expect.stringMatching(message)]),
      );
    }
  }

  describe('create and read', () => {
    it('creates a job (204) and reads it back in the original shape with defaults', async () => {
      const created = await create(JOB);
      expect(created.status).toBe(204);
      expect(created.text).toBe('');
      const read = await request(http).get('/api/v1/jobs/group/project/id');
      expect(read.status).toBe(200);
      expect(read.headers['content-type']).toMatch(/^application\/json/);
      expect(read.body).toEqual(EXPECTED_JOB);
      expect(Object.keys(read.body)).toEqual(Object.keys(EXPECTED_JOB));
    });

    it('accepts a body without Content-Type and keys in any case, as the original CLI sends them', async () => {
      const body = JSON.stringify({
        ...JOB,
        GROUP: 'g',
        Project: 'p',
        iD: 'x',
        CPUs: 2,
        Env: { lower: 'v', UP: 'V' },
      });
      const created = await request(http).post('/api/v1/jobs').set('Content-Type', '').send(body);
      expect(created.status).toBe(204);
      const read = await request(http).get('/api/v1/jobs/g/p/x');
      expect(read.body).toMatchObject({
        Group: 'g',
        Project: 'p',
        ID: 'x',
        CPUs: 2,
        Env: { lower: 'v', UP: 'V' },
      });
    });

    it('takes back a job copied from a GET answer', async () => {
      await create(JOB);
      const original = (await request(http).get('/api/v1/jobs/group/project/id')).body;
      expect((await create({ ...original, ID: 'copy' })).status).toBe(204);
      const copy = (await request(http).get('/api/v1/jobs/group/project/copy')).body;
      expect(copy).toEqual({ ...original, ID: 'copy' });
    });

    it('creates a Mesos-container job without a Docker object', async () => {
      await create({ ...JOB, container: { mesos: { image: 'busybox' } } });
      const read = await request(http).get('/api/v1/jobs/group/project/id');
      expect(read.body.Container).toEqual({ Type: 'Mesos', Mesos: { Image: 'busybox' } });
    });

    it('answers 409 for an existing job and keeps the first', async () => {
      await create(JOB);
      expectErrors(await create({ ...JOB, cmd: 'other' }), 409, /^Job already exists$/);
      expect((await request(http).get('/api/v1/jobs/group/project/id')).body.Cmd).toBe('echo $FOO');
    });

    it('lets one of several concurrent creates win', async () => {
      const responses = await Promise.all(Array.from({ length: 8 }, () => create(JOB)));
      expect(responses.map((r) => r.status).sort()).toEqual([
        204, 409, 409, 409, 409, 409, 409, 409,
      ]);
    });

    it('answers 404 in the envelope for a missing job', async () => {
      expectErrors(
        await request(http).get('/api/v1/jobs/group/project/none'),
        404,
        /^Job not found$/,
      );
    });
  });

  describe('validation', () => {
    it('names every violated field of an empty job, with 400', async () => {
      const response = await create({});
      expectErrors(
        response,
        400,
        /^Group: Is required$/,
        /^Project: Is required$/,
        /^ID: Is required$/,
        /^Schedule: Is required$/,
        /^Container: Is required$/,
        /^CPUs: Is required$/,
        /^Mem: Is required$/,
      );
      expect(response.body.Errors).toHaveLength(7);
    });

    it.each([
      [{ group: 'a b' }, /^Group: Does not match pattern/],
      [{ id: '' }, /^ID: Does not match pattern/],
      [
        { schedule: { cron: '* * *' } },
        /^Schedule\.Cron: Does not match format 'cron' \(expected exactly 5 fields, found 3\)$/,
      ],
      [{ schedule: { cron: '0 0 30 2 *' } }, /^Schedule\.Cron: .*never fires/],
      [{ schedule: {} }, /^Schedule\.Cron: Is required$/],
      [{ cpus: 0 }, /^CPUs: Must be greater than 0$/],
      [{ cpus: '1' }, /^CPUs: Must be a number$/],
      [{ mem: -1 }, /^Mem: Must be greater than 0$/],
      [{ disk: -1 }, /^Disk: Must be greater than or equal to 0$/],
      [{ maxretries: 1.5 }, /^MaxRetries: Must be an integer$/],
      [{ maxretries: -1 }, /^MaxRetries: Must be greater than or equal to 0$/],
      [{ shell: 'yes' }, /^Shell: Must be a boolean$/],
      [{ arguments: [1] }, /^Arguments: Must be an array of strings$/],
      [{ env: { A: 1 } }, /^Env: Must be an object of strings$/],
      [{ labels: [] }, /^Labels: Must be an object of strings$/],
      [{ container: {} }, /^Container: Must have exactly one of Docker and Mesos/],
      [
        { container: { docker: { image: 'a' }, mesos: { image: 'b' } } },
        /^Container: Must have exactly one/,
      ],
      [{ container: { docker: { image: '' } } }, /^Container\.Docker\.Image: Must not be empty$/],
      [{ container: { mesos: {} } }, /^Container\.Mesos\.Image: Is required$/],
    ])('rejects %j with 400 and writes nothing', async (change, message) => {
      expectErrors(await create({ ...JOB, ...change }), 400, message);
      expect((await request(http).get('/api/v1/jobs')).body).toEqual([]);
    });

    it.each([
      ['', /^JSON decoding failed: the body is empty$/],
      ['{"id": ', /^JSON decoding failed: /],
      ['[1, 2]', /^JSON decoding failed: the body must be a JSON object$/],
      ['null', /^JSON decoding failed: the body must be a JSON object$/],
    ])('rejects the body %j with 400', async (body, message) => {
      expectErrors(
        await request(http).post('/api/v1/jobs').set('Content-Type', 'application/json').send(body),
        400,
        message,
      );
    });

    it('rejects a body over the limit with 413 and writes nothing', async () => {
      const big = { ...JOB, env: { BIG: 'x'.repeat(1024 * 1024) } };
      expectErrors(await create(big), 413, /exceeds the limit/);
      expect((await request(http).get('/api/v1/jobs')).body).toEqual([]);
    });

    it('rejects names in the path that could never be a job', async () => {
      expectErrors(
        await request(http).get('/api/v1/jobs/a%2Fb'),
        400,
        /^Group: Does not match pattern/,
      );
      expectErrors(
        await request(http).get('/api/v1/jobs/g/p/x%3Ay'),
        400,
        /^ID: Does not match pattern/,
      );
    });
  });

  describe('update', () => {
    const put = (body: unknown, path = '/api/v1/jobs/group/project/id') =>
      request(http)
        .put(path)
        .send(body as object);
    const read = async () => (await request(http).get('/api/v1/jobs/group/project/id')).body;

    beforeEach(async () => {
      expect((await create({ ...JOB, labels: { a: '1' }, arguments: ['x'] })).status).toBe(204);
    });

    it('changes only the given fields', async () => {
      expect((await put({ schedule: { cron: '*/2 * * * *' }, cpus: 1.5 })).status).toBe(204);
      expect(await read()).toEqual({
        ...EXPECTED_JOB,
        Schedule: { Type: 'Cron', Cron: '*/2 * * * *' },
        CPUs: 1.5,
        Labels: { a: '1' },
        Arguments: ['x'],
      });
    });

    it('treats null as unchanged', async () => {
      const before = await read();
      const nulls = {
        schedule: null,
        env: null,
        container: null,
        cpus: null,
        mem: null,
        disk: null,
        maxretries: null,
        cmd: null,
      };
      expect((await put(nulls)).status).toBe(204);
      expect(await read()).toEqual(before);
    });

    it('replaces env, labels and arguments whole, keeping the case of their keys', async () => {
      expect((await put({ Env: { NewVar: 'v' }, labels: {}, arguments: [] })).status).toBe(204);
      expect(await read()).toMatchObject({ Env: { NewVar: 'v' }, Labels: {}, Arguments: [] });
    });

    it('never renames a job', async () => {
      expect((await put({ group: 'other', id: 'other', cmd: 'new' })).status).toBe(204);
      expect(await read()).toMatchObject({ Group: 'group', ID: 'id', Cmd: 'new' });
      expect((await request(http).get('/api/v1/jobs/other')).body).toEqual([]);
    });

    it('switches containers; Docker needs an image', async () => {
      expect((await put({ container: { mesos: { image: 'm' } } })).status).toBe(204);
      expect((await read()).Container).toEqual({ Type: 'Mesos', Mesos: { Image: 'm' } });
      expectErrors(
        await put({ container: { docker: { forcepullimage: true } } }),
        400,
        /^container\.docker\.image is required$/,
      );
      expect(
        (await put({ container: { docker: { image: 'd', forcepullimage: true } } })).status,
      ).toBe(204);
      expect((await read()).Container).toEqual({
        Type: 'Docker',
        Docker: { Image: 'd', ForcePullImage: true },
      });
      expect((await put({ container: { docker: { forcepullimage: false } } })).status).toBe(204);
      expect((await read()).Container).toEqual({
        Type: 'Docker',
        Docker: { Image: 'd', ForcePullImage: false },
      });
    });

    it.each([
      [{ schedule: {} }, /^Schedule\.Cron: Is required$/],
      [{ schedule: { cron: 'bad' } }, /^Schedule\.Cron: Does not match format 'cron'/],
      [{ container: {} }, /^Container: Must have Docker or Mesos$/],
      [{ container: { mesos: {} } }, /^Container\.Mesos\.Image: Is required$/],
      [{ container: { docker: { image: '' } } }, /^Container\.Docker\.Image: Must not be empty$/],
      [{ cpus: -1 }, /^CPUs: Must be greater than 0$/],
      [{ mem: 0 }, /^Mem: Must be greater than 0$/],
      [{ disk: -0.5 }, /^Disk: Must be greater than or equal to 0$/],
      [{ maxretries: -1 }, /^MaxRetries: Must be greater than or equal to 0$/],
    ])('rejects %j with 400 and changes nothing', async (body, message) => {
      const before = await read();
      expectErrors(await put(body), 400, message);
      expect(await read()).toEqual(before);
    });

    it('answers 404 for a missing job', async () => {
      expectErrors(
        await put({ cpus: 1 }, '/api/v1/jobs/group/project/none'),
        404,
        /^Job not found$/,
      );
    });
  });

  describe('listings', () => {
    beforeEach(async () => {
      for (const [group, project, id] of [
        ['b', 'p', '2'],
        ['a', 'p', '1'],
        ['b', 'p', '1'],
        ['b', 'q', '1'],
      ]) {
        expect((await create({ ...JOB, group, project, id })).status).toBe(204);
      }
    });

    const ids = (response: request.Response) =>
      (response.body as Array<{ Group: string; Project: string; ID: string }>).map(
        (j) => `${j.Group}/${j.Project}/${j.ID}`,
      );

    it('lists all jobs, also with the trailing slash the original CLI sends', async () => {
      expect(ids(await request(http).get('/api/v1/jobs'))).toEqual([
        'a/p/1',
        'b/p/1',
        'b/p/2',
        'b/q/1',
      ]);
      const slash = await request(http).get('/api/v1/jobs/');
      expect(slash.status).toBe(200);
      expect(ids(slash)).toEqual(['a/p/1', 'b/p/1', 'b/p/2', 'b/q/1']);
    });

    it('lists a group and a project; unknown ones are empty', async () => {
      expect(ids(await request(http).get('/api/v1/jobs/b'))).toEqual(['b/p/1', 'b/p/2', 'b/q/1']);
      expect(ids(await request(http).get('/api/v1/jobs/b/p'))).toEqual(['b/p/1', 'b/p/2']);
      expect((await request(http).get('/api/v1/jobs/c')).body).toEqual([]);
      expect((await request(http).get('/api/v1/jobs/b/z')).body).toEqual([]);
    });
  });

  describe('delete, run and tasks', () => {
    beforeEach(async () => {
      expect((await create(JOB)).status).toBe(204);
    });

    it('deletes a job (204), then answers 404', async () => {
      expect((await request(http).delete('/api/v1/jobs/group/project/id')).status).toBe(204);
      expectErrors(
        await request(http).get('/api/v1/jobs/group/project/id'),
        404,
        /^Job not found$/,
      );
      expectErrors(
        await request(http).delete('/api/v1/jobs/group/project/id'),
        404,
        /^Job not found$/,
      );
    });

    it('queues a run (204) and is a no-op when queued already', async () => {
      expect((await request(http).post('/api/v1/jobs/group/project/id/run')).status).toBe(204);
      expect((await request(http).post('/api/v1/jobs/group/project/id/run')).status).toBe(204);
      expectErrors(
        await request(http).post('/api/v1/jobs/group/project/none/run'),
        404,
        /^Job not found$/,
      );
    });

    it('lists no tasks for a new job and 404 for a missing one', async () => {
      const tasks = await request(http).get('/api/v1/jobs/group/project/id/tasks');
      expect(tasks.status).toBe(200);
      expect(tasks.body).toEqual([]);
      expectErrors(
        await request(http).get('/api/v1/jobs/group/project/none/tasks'),
        404,
        /^Job not found$/,
      );
    });
  });

  describe('schedule preview', () => {
    it("lists a job's next occurrences in UTC and local time, across a DST change", async () => {
      const body = { ...JOB, schedule: { cron: '0 12 * * *', timezone: 'Europe/Warsaw' } };
      expect((await create(body)).status).toBe(204);
      const preview = await request(http)
        .get('/api/v1/jobs/group/project/id/schedule')
        .query({ count: 3, from: '2026-03-28T00:00:00Z' });
      expect(preview.status).toBe(200);
      expect(preview.body).toEqual({
        Cron: '0 12 * * *',
        Timezone: 'Europe/Warsaw',
        Paused: false,
        NextStarts: [
          { Time: '2026-03-28T11:00:00.000Z', Local: '2026-03-28T12:00:00+01:00' },
          { Time: '2026-03-29T10:00:00.000Z', Local: '2026-03-29T12:00:00+02:00' },
          { Time: '2026-03-30T10:00:00.000Z', Local: '2026-03-30T12:00:00+02:00' },
        ],
      });
    });

    it('gives ten occurrences from now by default, in the default time zone', async () => {
      expect((await create(JOB)).status).toBe(204);
      const preview = await request(http).get('/api/v1/jobs/group/project/id/schedule');
      expect(preview.status).toBe(200);
      expect(preview.body.Timezone).toBe('UTC');
      const times = (preview.body.NextStarts as Array<{ Time: string; Local: string }>).map(
        (occurrence) => Date.parse(occurrence.Time),
      );
      expect(times).toHaveLength(10);
      expect(times[0]).toBeGreaterThan(Date.now() - 1000);
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(preview.body.NextStarts[0].Local).toMatch(/Z$/);
    });

    it('refuses a bad count or from, and a missing job', async () => {
      expect((await create(JOB)).status).toBe(204);
      const url = '/api/v1/jobs/group/project/id/schedule';
      expectErrors(await request(http).get(url).query({ count: 0 }), 400, /^Count: Must be/);
      expectErrors(await request(http).get(url).query({ count: 101 }), 400, /^Count: Must be/);
      expectErrors(
        await request(http).get(url).query({ from: 'soon' }),
        400,
        /^From: Must be an RFC 3339 time/,
      );
      expectErrors(
        await request(http).get('/api/v1/jobs/group/project/nope/schedule'),
        404,
        /^Job not found$/,
      );
    });
  });

  describe('routing', () => {
    it('answers unknown routes with 404 in the envelope', async () => {
      expectErrors(await request(http).get('/api/v1/nothing'), 404, /^Not found$/);
      expectErrors(await request(http).get('/'), 404, /^Not found$/);
    });

    it('answers a wrong method with 405 and Allow', async () => {
      const patch = await request(http).patch('/api/v1/jobs/g/p/i').send({});
      expectErrors(patch, 405, /^Method PATCH not allowed/);
      expect(patch.headers.allow).toBe('DELETE, GET, HEAD, PUT');
      expectErrors(await request(http).delete('/api/v1/jobs'), 405, /not allowed/);
    });

    it("keeps a route's own 404 a 404, not a 405 for its path", async () => {
      const cluster = await request(http).get('/api/v1/cluster');
      expectErrors(cluster, 404, /^No Mesos master is configured$/);
      expectErrors(await request(http).post('/api/v1/cluster'), 405, /^Method POST not allowed/);
    });
  });

  describe('operations', () => {
    it('reports health with the original fields', async () => {
      let response = await request(http).get('/api/v1/health');
      // With Redis the instance campaigns for the leader lock in the background.
      for (let attempt = 0; attempt < 60 && !response.body.Leader; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        response = await request(http).get('/api/v1/health');
      }
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['ServerTime', 'Version', 'Leader']);
      expect(response.body.ServerTime).toMatch(
        /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \S+ \d{4}$/,
      );
      expect(response.body.Version).toBe(testApp.config.version);
      expect(response.body.Leader).toBe(true);
    });

    it('serves Prometheus metrics with the original series', async () => {
      for (let attempt = 0; attempt < 60; attempt++) {
        if ((await request(http).get('/api/v1/health')).body.Leader) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const response = await request(http).get('/api/v1/metrics');
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.text).toContain(`rhythm_info{version="${testApp.config.version}"} 1`);
      expect(response.text).toMatch(/^leader 1$/m);
      expect(response.text).toMatch(/^rhythm_leader_epoch [1-9]\d*$/m);
      expect(response.text).toContain('rhythm_job_trigger_lag_seconds');
      expect(response.text).toContain('process_resident_memory_bytes');
    });

    it('serves Swagger UI at /docs and the document at /docs-json', async () => {
      const ui = await request(http).get('/docs');
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('Swagger UI');
      const json = await request(http).get('/docs-json');
      expect(json.body.paths['/api/v1/jobs/{group}/{project}/{id}']).toBeDefined();
    });
  });
});

describe('jobs API while Redis is down', () => {
  it('answers 503 in the envelope, then recovers without losing a job', async () => {
    const testApp = await startTestApp('redis', redis.url);
    const http = testApp.app.getHttpServer() as App;
    try {
      expect((await request(http).post('/api/v1/jobs').send(JOB)).status).toBe(204);
      await redis.kill();
      const down = await request(http).get('/api/v1/jobs/group/project/id');
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ Errors: ['Job store unavailable'] });
      expect(
        (
          await request(http)
            .post('/api/v1/jobs')
            .send({ ...JOB, id: 'two' })
        ).status,
      ).toBe(503);
      await redis.restart();
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await request(http).get('/api/v1/jobs/group/project/id')).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      expect((await request(http).get('/api/v1/jobs/group/project/two')).status).toBe(404);
    } finally {
      await testApp.close();
    }
  });
});
