import type Redis from 'ioredis';
import { RedisServer } from '../../../../../test/support/redis-server';
import { JobsErrorCode } from '../../domain/jobs.errors';
import { sampleJob, withRuntime } from '../../testing/job-fixtures';
import {
  CONTRACT_RETENTION,
  describeJobStoreContract,
  type JobStoreUnderTest,
} from '../../testing/job-store.contract';
import { createRedisConnection } from './redis-connection';
import { RedisJobKeys } from './redis-job-keys';
import { RedisJobRepository } from './redis-job.repository';
import { RedisSchedulerStateRepository } from './redis-scheduler-state.repository';
import { RedisTaskHistoryRepository } from './redis-task-history.repository';

let server: RedisServer;

beforeAll(async () => {
  server = await RedisServer.start();
});

afterAll(async () => {
  await server.stop();
});

const KEYS = new RedisJobKeys('rhythm:');

function openStore(client: Redis): JobStoreUnderTest {
  return {
    jobs: new RedisJobRepository(client, KEYS, CONTRACT_RETENTION),
    state: new RedisSchedulerStateRepository(client, KEYS),
    tasks: new RedisTaskHistoryRepository(client, KEYS, CONTRACT_RETENTION),
  };
}

describeJobStoreContract('RedisJobRepository', () => {
  let client: Redis | null = null;
  return {
    async open() {
      client = createRedisConnection(server.url);
      await client.flushall();
      return openStore(client);
    },
    async reopen() {
      client?.disconnect();
      await server.restart();
      client = createRedisConnection(server.url);
      return openStore(client);
    },
    async close() {
      client?.disconnect();
    },
  };
});

describe('RedisJobRepository', () => {
  let client: Redis;
  let store: JobStoreUnderTest;

  beforeEach(async () => {
    client = createRedisConnection(server.url);
    await client.flushall();
    store = openStore(client);
  });

  afterEach(() => {
    client.disconnect();
  });

  it('refuses a fenced scheduler-state write from a term older than the stored epoch', async () => {
    const state = new RedisSchedulerStateRepository(client, KEYS);
    await client.set(KEYS.leaderEpoch, '7');
    await expect(state.set('mesos.frameworkId', 'old', { epoch: 6 })).rejects.toMatchObject({
      code: JobsErrorCode.STALE_FENCE,
    });
    expect(await state.get('mesos.frameworkId')).toBeNull();
    await state.set('mesos.frameworkId', 'new', { epoch: 7 });
    expect(await state.get('mesos.frameworkId')).toBe('new');
  });

  it('refuses a fenced write from a term older than the stored epoch, and accepts the current one', async () => {
    const job = sampleJob('g', 'p', 'a');
    await store.jobs.create(job);
    await client.set(KEYS.leaderEpoch, '7');
    await expect(
      store.jobs.update(job.jobId, (j) => ({ job: withRuntime(j, { state: 'Staging' }) }), {
        epoch: 6,
      }),
    ).rejects.toMatchObject({ code: JobsErrorCode.STALE_FENCE });
    expect((await store.jobs.get(job.jobId))?.runtime.state).toBe('Idle');
    await store.jobs.update(job.jobId, (j) => ({ job: withRuntime(j, { state: 'Staging' }) }), {
      epoch: 7,
    });
    expect((await store.jobs.get(job.jobId))?.runtime.state).toBe('Staging');
  });

  it('reports an unreachable Redis as STORE_UNAVAILABLE and recovers when it is back', async () => {
    const job = sampleJob('g', 'p', 'a');
    await store.jobs.create(job);
    await server.kill();
    await expect(store.jobs.get(job.jobId)).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
    await expect(store.jobs.create(sampleJob('g', 'p', 'b'))).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
    await server.restart();
    // The client reconnects by itself; the job written before the crash is still there.
    let found = null;
    for (let attempt = 0; attempt < 50 && !found; attempt++) {
      found = await store.jobs.get(job.jobId).catch(() => null);
      if (!found) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(found).toEqual(job);
    expect(await store.jobs.get({ group: 'g', project: 'p', id: 'b' })).toBeNull();
  });

  it('lists many jobs in one round trip', async () => {
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        store.jobs.create(sampleJob(`g${i % 7}`, 'p', `job-${i}`)),
      ),
    );
    await store.jobs.list({ group: 'none' }); // loads the script into this server
    const sent: string[] = [];
    const original = client.sendCommand.bind(client);
    client.sendCommand = (command, stream) => {
      sent.push(command.name);
      return original(command, stream);
    };
    expect(await store.jobs.list({})).toHaveLength(2000);
    expect(sent).toEqual(['evalsha']);
  });
});
