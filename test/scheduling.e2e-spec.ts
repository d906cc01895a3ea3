import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { isAlive } from './support/process-alive';
import { RedisServer } from './support/redis-server';
import { startTestApp, type StoreKind, type TestApp } from './support/test-app';
import { waitFor } from './support/wait-for';

const JOB = {
  group: 'g',
  project: 'p',
  cpus: 0.1,
  mem: 16,
  schedule: { cron: '0 0 1 1 *' }, // once a year: only run-now and retries start runs here
  container: { docker: { image: 'alpine:3.8' } },
};

interface TaskBody {
  TaskID: string;
  Start: string;
  End: string;
  State: string;
  Trigger: string;
  Attempt: number;
  ExitCode: number | null;
  Message: string;
  Reason: string;
  Source: string;
  Runner: string;
}

let redis: RedisServer;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis.stop();
});

describe.each<StoreKind>(['embedded', 'redis'])(
  'scheduling on the %s store with the local runner',
  (kind) => {
    let testApp: TestApp;
    let http: App;

    beforeEach(async () => {
      testApp = await startTestApp(kind, redis.url);
      http = testApp.app.getHttpServer() as App;
      await waitFor(
        async () => (await request(http).get('/api/v1/health')).body.Leader === true,
        'leadership',
      );
    });

    afterEach(async () => {
      await testApp.close();
    });

    async function createJob(id: string, fields: Record<string, unknown>): Promise<void> {
      const response = await request(http)
        .post('/api/v1/jobs')
        .send({ ...JOB, id, ...fields });
      expect(response.status).toBe(204);
    }

    const tasksOf = async (id: string): Promise<TaskBody[]> =>
      (await request(http).get(`/api/v1/jobs/g/p/${id}/tasks`)).body as TaskBody[];

    async function waitForTasks(id: string, count: number): Promise<TaskBody[]> {
      let tasks: TaskBody[] = [];
      await waitFor(
        async () => (tasks = await tasksOf(id)).length >= count,
        `${count} task records of ${id}`,
      );
      return tasks;
    }

    it('runs a job now on the local runner, records it and keeps its output', async () => {
      await createJob('hello', {
        cmd: 'echo "hello $FOO from $RHYTHM_TASK_ID"',
        env: { FOO: 'rhythm' },
      });
      expect((await request(http).post('/api/v1/jobs/g/p/hello/run')).status).toBe(204);
      const [task] = await waitForTasks('hello', 1);
      expect(task).toMatchObject({
        State: 'Finished',
        Trigger: 'manual',
        Attempt: 1,
        ExitCode: 0,
        Message: '',
        Reason: '',
        Source: '',
        Runner: 'local',
      });
      expect(task.TaskID).toMatch(/^g:p:hello:[0-9a-f-]{36}$/);
      const job = (await request(http).get('/api/v1/jobs/g/p/hello')).body;
      expect(job).toMatchObject({ State: 'Idle', CurrentTaskID: '', Retries: 0 });
      expect(job.LastStart).not.toBe('0001-01-01T00:00:00Z');
      const logs = await request(http).get(`/api/v1/jobs/g/p/hello/tasks/${task.TaskID}/logs`);
      expect(logs.status).toBe(200);
      expect(logs.body).toEqual({
        Stream: 'stdout',
        Offset: 0,
        Size: logs.body.Size,
        Data: `hello rhythm from ${task.TaskID}\n`,
      });
    });

    it('retries a failing run with backoff and records every attempt', async () => {
      await createJob('fails', {
        cmd: 'echo oops >&2; exit 3',
        maxretries: 1,
        retrybackoff: { backoff: 0, maxbackoff: 0 },
      });
      await request(http).post('/api/v1/jobs/g/p/fails/run');
      const tasks = await waitForTasks('fails', 2);
      expect(tasks.map((t) => [t.State, t.Trigger, t.Attempt, t.ExitCode, t.Reason])).toEqual([
        ['Failed', 'manual', 1, 3, 'EXIT_CODE'],
        ['Failed', 'retry', 2, 3, 'EXIT_CODE'],
      ]);
      expect(tasks[0].Message).toBe('exited with code 3');
      expect(tasks[0].Source).not.toBe('');
      await waitFor(
        async () => (await request(http).get('/api/v1/jobs/g/p/fails')).body.State === 'Failed',
        'Failed',
      );
      const stderr = await request(http).get(
        `/api/v1/jobs/g/p/fails/tasks/${tasks[0].TaskID}/logs?stream=stderr`,
      );
      expect(stderr.body.Data).toBe('oops\n');
    });

    it('kills a run that outlives its timeout and records it as failed', async () => {
      await createJob('slow', { cmd: 'sleep 30', timeout: 1 });
      await request(http).post('/api/v1/jobs/g/p/slow/run');
      const [task] = await waitForTasks('slow', 1);
      expect(task).toMatchObject({
        State: 'Failed',
        Reason: 'TIMEOUT',
        Message: 'timed out after 1 s',
        Source: 'SCHEDULER',
      });
    });

    it('kills a run on request, records it as killed, and refuses to kill what is not running', async () => {
      await createJob('killable', { cmd: 'sleep 30', maxretries: 2 });
      await request(http).post('/api/v1/jobs/g/p/killable/run');
      const taskId = await waitFor(async () => {
        const job = (await request(http).get('/api/v1/jobs/g/p/killable')).body as {
          State: string;
          CurrentTaskID: string;
        };
        return job.State === 'Running' && job.CurrentTaskID;
      }, 'a running run');
      const killed = await request(http).post(`/api/v1/jobs/g/p/killable/tasks/${taskId}/kill`);
      expect(killed.status).toBe(204);
      const [task] = await waitForTasks('killable', 1);
      expect(task).toMatchObject({
        TaskID: taskId,
        State: 'Killed',
        Message: 'killed on request',
        Reason: 'KILLED_ON_REQUEST',
        Source: 'SCHEDULER',
      });
      // A run killed on request is not retried.
      const job = (await request(http).get('/api/v1/jobs/g/p/killable')).body as {
        CurrentTaskID: string;
        Retries: number;
      };
      expect(job.CurrentTaskID).toBe('');
      const queue = (await request(http).get('/api/v1/queue')).body as Array<{ ID: string }>;
      expect(queue.map((pending) => pending.ID)).not.toContain('killable');
      const again = await request(http).post(`/api/v1/jobs/g/p/killable/tasks/${taskId}/kill`);
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ Errors: ['Task is not running'] });
      const missing = await request(http).post(`/api/v1/jobs/g/p/nojob/tasks/${taskId}/kill`);
      expect(missing.status).toBe(404);
    });

    it('pauses a job after the configured number of failed occurrences, until resumed', async () => {
      await createJob('flaky', { cmd: 'exit 1', pauseafterfailures: 2 });
      const job = async () =>
        (await request(http).get('/api/v1/jobs/g/p/flaky')).body as {
          PauseAfterFailures?: number;
          ConsecutiveFailures?: number;
          Paused?: { Since: string };
        };
      expect((await request(http).post('/api/v1/jobs/g/p/flaky/run')).status).toBe(204);
      await waitForTasks('flaky', 1);
      expect(await job()).toMatchObject({ PauseAfterFailures: 2, ConsecutiveFailures: 1 });
      expect((await job()).Paused).toBeUndefined();
      expect((await request(http).post('/api/v1/jobs/g/p/flaky/run')).status).toBe(204);
      await waitFor(async () => (await job()).Paused !== undefined, 'the automatic pause');
      expect(await job()).toMatchObject({ ConsecutiveFailures: 2 });
      // Paused: a run-now is refused, as for a pause by hand.
      expect((await request(http).post('/api/v1/jobs/g/p/flaky/run')).status).toBe(409);
      expect((await request(http).post('/api/v1/jobs/g/p/flaky/resume')).status).toBe(204);
      const resumed = await job();
      expect(resumed.Paused).toBeUndefined();
      expect(resumed.ConsecutiveFailures).toBeUndefined();
      // 0 turns it off.
      const off = await request(http).put('/api/v1/jobs/g/p/flaky').send({ pauseafterfailures: 0 });
      expect(off.status).toBe(204);
      expect((await job()).PauseAfterFailures).toBeUndefined();
      const bad = await request(http)
        .put('/api/v1/jobs/g/p/flaky')
        .send({ pauseafterfailures: -1 });
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        Errors: ['PauseAfterFailures: Must be greater than or equal to 0'],
      });
    });

    it('kills the run of a job deleted while it runs', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rhythm-doomed-'));
      try {
        const pidFile = path.join(dir, 'pid');
        await createJob('doomed', { cmd: `echo $$ > ${pidFile}; sleep 30` });
        await request(http).post('/api/v1/jobs/g/p/doomed/run');
        const pid = await waitFor(async () => {
          const text = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '';
          return text === '' ? 0 : Number(text);
        }, 'the run to start');
        expect(isAlive(pid)).toBe(true);
        expect((await request(http).delete('/api/v1/jobs/g/p/doomed')).status).toBe(204);
        await waitFor(async () => !isAlive(pid), 'the run to be killed');
        expect((await request(http).get('/api/v1/jobs/g/p/doomed')).status).toBe(404);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('never runs a job twice at once: a run-now during a run waits for its end', async () => {
      await createJob('serial', { cmd: 'sleep 0.5' });
      await request(http).post('/api/v1/jobs/g/p/serial/run');
      await waitFor(
        async () => (await request(http).get('/api/v1/jobs/g/p/serial')).body.CurrentTaskID !== '',
        'a run in flight',
      );
      expect((await request(http).post('/api/v1/jobs/g/p/serial/run')).status).toBe(204);
      const queue = (await request(http).get('/api/v1/queue')).body as Array<
        Record<string, unknown>
      >;
      expect(queue).toEqual([
        expect.objectContaining({
          Group: 'g',
          Project: 'p',
          ID: 'serial',
          Trigger: 'manual',
          Attempt: 1,
        }),
      ]);
      const [first, second] = await waitForTasks('serial', 2);
      expect(first.State).toBe('Finished');
      expect(second.State).toBe('Finished');
      expect(Date.parse(second.Start)).toBeGreaterThanOrEqual(Date.parse(first.End));
    });

    it('pauses and resumes a job; a paused job refuses run-now with 409', async () => {
      await createJob('pausable', { cmd: 'true' });
      expect(
        (
          await request(http)
            .post('/api/v1/jobs/g/p/pausable/pause')
            .send({ until: '2099-01-01T00:00:00Z' })
        ).status,
      ).toBe(204);
      const paused = (await request(http).get('/api/v1/jobs/g/p/pausable')).body;
      expect(paused.Paused).toEqual({
        Since: expect.any(String),
        Until: '2099-01-01T00:00:00.000Z',
      });
      const refused = await request(http).post('/api/v1/jobs/g/p/pausable/run');
      expect(refused.status).toBe(409);
      expect(refused.body).toEqual({ Errors: ['Job is paused'] });
      expect((await request(http).post('/api/v1/jobs/g/p/pausable/resume')).status).toBe(204);
      expect((await request(http).get('/api/v1/jobs/g/p/pausable')).body.Paused).toBeUndefined();
      expect((await request(http).post('/api/v1/jobs/g/p/pausable/run')).status).toBe(204);
      expect(await waitForTasks('pausable', 1)).toHaveLength(1);
    });

    it('pages task records and reports the total', async () => {
      await createJob('paged', { cmd: 'true' });
      for (let i = 1; i <= 3; i++) {
        await request(http).post('/api/v1/jobs/g/p/paged/run');
        await waitForTasks('paged', i);
      }
      const all = await tasksOf('paged');
      const latest = await request(http).get('/api/v1/jobs/g/p/paged/tasks?limit=2');
      expect(latest.headers['x-total-count']).toBe('3');
      expect((latest.body as TaskBody[]).map((t) => t.TaskID)).toEqual([
        all[1].TaskID,
        all[2].TaskID,
      ]);
      const page = await request(http).get('/api/v1/jobs/g/p/paged/tasks?offset=0&limit=1');
      expect((page.body as TaskBody[]).map((t) => t.TaskID)).toEqual([all[0].TaskID]);
      expect((await request(http).get('/api/v1/jobs/g/p/paged/tasks?limit=0')).status).toBe(400);
    });

    it('shows when a new job next starts, in its time zone, and validates the new fields', async () => {
      await createJob('zoned', {
        cmd: 'true',
        schedule: { cron: '30 2 * * *', timezone: 'Europe/Warsaw' },
        missedruns: { policy: 'skip' },
      });
      const job = (await request(http).get('/api/v1/jobs/g/p/zoned')).body;
      expect(job.Schedule).toEqual({ Type: 'Cron', Cron: '30 2 * * *', Timezone: 'Europe/Warsaw' });
      expect(job.MissedRuns).toEqual({ Policy: 'skip' });
      expect(new Date(job.NextStart).getTime()).toBeGreaterThan(Date.now());
      const bad = await request(http)
        .post('/api/v1/jobs')
        .send({
          ...JOB,
          id: 'bad',
          schedule: { cron: '* * * * *', timezone: 'Mars/Base' },
          missedruns: { policy: 'never' },
          timeout: 0,
        });
      expect(bad.status).toBe(400);
      expect(bad.body.Errors).toEqual(
        expect.arrayContaining([
          'Schedule.Timezone: Must be an IANA time zone name, such as Europe/Warsaw',
          "MissedRuns.Policy: Must be one of 'skip', 'once', 'all'",
          'Timeout: Must be at least 1',
        ]),
      );
    });

    it('answers 404 for logs of a task that is not the job’s and 400 for a bad stream', async () => {
      await createJob('nologs', { cmd: 'true' });
      const foreign =
        '/api/v1/jobs/g/p/nologs/tasks/g:p:other:0f8fad5b-d9cb-469f-a165-70867728950e/logs';
      expect((await request(http).get(foreign)).body).toEqual({ Errors: ['Task not found'] });
      const bad = await request(http).get(
        '/api/v1/jobs/g/p/nologs/tasks/g:p:nologs:0f8fad5b-d9cb-469f-a165-70867728950e/logs?stream=stdin',
      );
      expect(bad.status).toBe(400);
    });
  },
);
