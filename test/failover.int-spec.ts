import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { createRedisConnection, DEFAULT_HISTORY_RETENTION, RedisJobKeys } from '@rhythm/jobs';
import { RedisJobRepository } from '../libs/jobs/src/infrastructure/redis/redis-job.repository';
import { freePort } from './support/free-port';
import { RedisServer } from './support/redis-server';
import { startTestApp } from './support/test-app';

const ROOT = resolve(__dirname, '..');
const LEADER_TTL_MS = 1000;
/** RedisLeaderElection's default pause between campaigns. */
const CAMPAIGN_RETRY_MS = 500;

interface Instance {
  readonly url: string;
  readonly child: ChildProcess;
}

let redis: RedisServer;
let dir: string;
const instances: Instance[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis.stop();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rhythm-failover-'));
});

afterEach(async () => {
  await Promise.all(instances.splice(0).map(({ child }) => stopProcess(child)));
  rmSync(dir, { recursive: true, force: true });
});

/** A real Rhythm process (ts-node, no build needed) on the shared Redis. */
async function startInstance(name: string): Promise<Instance> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/api/src/main.ts',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        RHYTHM_ADDR: `127.0.0.1:${port}`,
        RHYTHM_STORAGE: 'redis',
        RHYTHM_REDIS_URL: redis.url,
        RHYTHM_LEADER_TTL_MS: String(LEADER_TTL_MS),
        RHYTHM_SCHEDULER_POLL_MS: '100',
        RHYTHM_LOG_DIR: join(dir, `logs-${name}`),
        RHYTHM_LOG_LEVEL: 'error',
      },
    },
  );
  const instance = { url: `http://127.0.0.1:${port}`, child };
  instances.push(instance);
  return instance;
}

async function health(instance: Instance): Promise<{ Leader: boolean } | null> {
  try {
    const response = await fetch(`${instance.url}/api/v1/health`);
    return (await response.json()) as { Leader: boolean };
  } catch {
    return null;
  }
}

async function waitFor<T>(
  check: () => Promise<T | null | false>,
  what: string,
  timeoutMs: number,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    child.once('exit', () => done());
    child.kill('SIGKILL');
  });
}

async function api(
  instance: Instance,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${instance.url}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('failover between Rhythm processes on one Redis', () => {
  it('neither loses nor repeats a run when the leader is SIGKILLed while 100 occurrences are due', async () => {
    const all = await Promise.all(['a', 'b', 'c'].map(startInstance));
    await waitFor(
      async () => (await Promise.all(all.map(health))).every(Boolean),
      'three healthy instances',
      60_000,
    );
    const leader = await waitFor(
      async () => {
        const states = await Promise.all(all.map(health));
        const leaders = all.filter((_, i) => states[i]?.Leader);
        return leaders.length === 1 ? leaders[0] : null;
      },
      'one leader',
      10_000,
    );
    const follower = all.find((instance) => instance !== leader) as Instance;

    const launches = join(dir, 'launches.log');
    const ids = Array.from({ length: 100 }, (_, i) => `job-${i}`);
    for (const id of ids) {
      const created = await api(follower, 'POST', '/api/v1/jobs', {
        group: 'g',
        project: 'p',
        id,
        cpus: 0.1,
        mem: 16,
        schedule: { cron: '0 0 1 1 *' },
        container: { docker: { image: 'alpine' } },
        cmd: `echo "$RHYTHM_TASK_ID" >> '${launches}'; sleep 0.2`,
      });
      expect(created.status).toBe(204);
    }
    // Half the jobs get a run-now; for the other half the cron occurrence of the current minute
    // comes due (written straight into the store, as if the minute had just turned).
    const manual = ids.filter((_, i) => i % 2 === 0);
    const cron = ids.filter((_, i) => i % 2 === 1);
    const dueAt = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const redisClient = createRedisConnection(redis.url);
    try {
      const store = new RedisJobRepository(
        redisClient,
        new RedisJobKeys('rhythm:'),
        DEFAULT_HISTORY_RETENTION,
      );
      await Promise.all(
        cron.map((id) =>
          store.update({ group: 'g', project: 'p', id }, (job) => ({
            job: {
              ...job,
              // Fires at this minute only (daily): a test that crosses a minute boundary must not
              // see the next occurrence as a second launch.
              schedule: {
                type: 'Cron',
                cron: `${dueAt.getUTCMinutes()} ${dueAt.getUTCHours()} * * *`,
              },
              runtime: { ...job.runtime, nextFireAt: dueAt },
            },
          })),
        ),
      );
    } finally {
      redisClient.disconnect();
    }
    const queued = await Promise.all(
      manual.map((id) => api(follower, 'POST', `/api/v1/jobs/g/p/${id}/run`)),
    );
    expect(queued.map((r) => r.status)).toEqual(manual.map(() => 204));

    await waitFor(
      async () => existsSync(launches) && readFileSync(launches, 'utf8').split('\n').length > 10,
      'first launches',
      20_000,
    );
    const killedAt = Date.now();
    await stopProcess(leader.child);
    const survivors = all.filter((instance) => instance !== leader);
    await waitFor(
      async () => (await Promise.all(survivors.map(health))).some((h) => h?.Leader),
      'a new leader',
      10_000,
    );
    const takeoverMs = Date.now() - killedAt;
    // The lock expires within its TTL; a follower retries every CAMPAIGN_RETRY_MS; health is polled every 25 ms.
    expect(takeoverMs).toBeLessThanOrEqual(LEADER_TTL_MS + CAMPAIGN_RETRY_MS + 500);

    type JobBody = { ID: string; State: string; CurrentTaskID: string };
    await waitFor(
      async () => {
        const jobs = (await (await api(follower, 'GET', '/api/v1/jobs/g')).json()) as JobBody[];
        if (jobs.some((job) => job.CurrentTaskID !== '')) return false;
        const counts = await Promise.all(
          ids.map(
            async (id) =>
              (
                (await (
                  await api(follower, 'GET', `/api/v1/jobs/g/p/${id}/tasks`)
                ).json()) as unknown[]
              ).length,
          ),
        );
        return counts.every((count) => count >= 1);
      },
      'every run to end',
      30_000,
    );

    const launched = readFileSync(launches, 'utf8').split('\n').filter(Boolean);
    expect(new Set(launched).size).toBe(launched.length);
    const launchesPerJob = new Map<string, number>();
    for (const taskId of launched) {
      const job = taskId.split(':')[2];
      launchesPerJob.set(job, (launchesPerJob.get(job) ?? 0) + 1);
    }
    expect([...launchesPerJob.values()].every((count) => count === 1)).toBe(true);

    for (const id of ids) {
      const tasks = (await (
        await api(follower, 'GET', `/api/v1/jobs/g/p/${id}/tasks`)
      ).json()) as Array<{
        TaskID: string;
        State: string;
        Trigger: string;
        ScheduledAt: string;
      }>;
      // Exactly one record per occurrence: finished, or lost with the process that ran it.
      expect(tasks).toHaveLength(1);
      expect(['Finished', 'Lost']).toContain(tasks[0].State);
      if (tasks[0].State === 'Finished') expect(launched).toContain(tasks[0].TaskID);
      if (cron.includes(id)) {
        expect(tasks[0]).toMatchObject({ Trigger: 'cron', ScheduledAt: dueAt.toISOString() });
        const job = (await (await api(follower, 'GET', `/api/v1/jobs/g/p/${id}`)).json()) as {
          NextStart: string;
        };
        expect(Date.parse(job.NextStart)).toBeGreaterThan(dueAt.getTime());
      } else {
        expect(tasks[0].Trigger).toBe('manual');
      }
    }
  }, 120_000);
});

describe('a Redis restart during a run', () => {
  it('loses neither the job nor its task record', async () => {
    const testApp = await startTestApp('redis', redis.url);
    const http = testApp.app.getHttpServer() as App;
    try {
      await waitFor(
        async () => (await request(http).get('/api/v1/health')).body.Leader === true,
        'leadership',
        10_000,
      );
      const job = {
        group: 'g',
        project: 'p',
        id: 'survivor',
        cpus: 1,
        mem: 16,
        schedule: { cron: '0 0 1 1 *' },
        container: { docker: { image: 'a' } },
        cmd: 'sleep 1',
      };
      expect((await request(http).post('/api/v1/jobs').send(job)).status).toBe(204);
      expect((await request(http).post('/api/v1/jobs/g/p/survivor/run')).status).toBe(204);
      await waitFor(
        async () => (await request(http).get('/api/v1/jobs/g/p/survivor')).body.State === 'Running',
        'Running',
        10_000,
      );
      await redis.restart();
      const tasks = await waitFor(
        async () => {
          const response = await request(http).get('/api/v1/jobs/g/p/survivor/tasks');
          return response.status === 200 && response.body.length > 0
            ? (response.body as Array<{ State: string }>)
            : null;
        },
        'the task record',
        20_000,
      );
      expect(tasks).toHaveLength(1);
      expect(tasks[0].State).toBe('Finished');
      const after = (await request(http).get('/api/v1/jobs/g/p/survivor')).body;
      expect(after).toMatchObject({ State: 'Idle', CurrentTaskID: '' });
    } finally {
      await testApp.close();
    }
  }, 60_000);
});
