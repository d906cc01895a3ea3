import type Redis from 'ioredis';
import { RedisServer } from '../../../../../test/support/redis-server';
import { JobsErrorCode } from '../../domain/jobs.errors';
import type { JobChange } from '../../application/ports/job-repository.port';
import type { Job } from '../../domain/job';
import { sampleJob, withRuntime } from '../../testing/job-fixtures';
import {
  CONTRACT_RETENTION,
  describeJobStoreContract,
  type JobStoreUnderTest,
} from '../../testing/job-store.contract';
import { encodeRuntime } from '../job-codec';
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
    async newerTerm() {
      await client?.set(KEYS.leaderEpoch, '7');
      return { stale: { epoch: 6 }, current: { epoch: 7 } };
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

  describe('updateMany', () => {
    const jobIdOf = (id: string) => ({ group: 'g', project: 'p', id });
    const label =
      (key: string, onCall?: (call: number) => void) =>
      (j: Job): JobChange => {
        calls[key] = (calls[key] ?? 0) + 1;
        onCall?.(calls[key]);
        return { job: { ...j, labels: { ...j.labels, [key]: String(calls[key]) } } };
      };
    let calls: Record<string, number>;

    beforeEach(async () => {
      calls = {};
      for (const id of ['a', 'b']) await store.jobs.create(sampleJob('g', 'p', id, { labels: {} }));
    });

    /** A write of another client that lands between the batch's read and its script. */
    const bumpRevision = (id: string, rev: number): void => {
      void client.hset(
        KEYS.runtimes,
        `g/p/${id}`,
        encodeRuntime({ ...sampleJob('g', 'p', id).runtime, rev }),
      );
    };

    it('re-reads and re-applies the change of a job whose revision moved, keeping the rest', async () => {
      const results = await store.jobs.updateMany([
        { jobId: jobIdOf('a'), change: label('a', (call) => call === 1 && bumpRevision('a', 5)) },
        { jobId: jobIdOf('b'), change: label('b') },
      ]);
      expect(calls).toEqual({ a: 2, b: 1 });
      expect(results.map((r) => r.status)).toEqual(['updated', 'updated']);
      expect((await store.jobs.get(jobIdOf('a')))?.runtime.rev).toBe(6);
      expect(await store.jobs.get(jobIdOf('a'))).toMatchObject({ labels: { a: '2' } });
      expect((await store.jobs.get(jobIdOf('b')))?.runtime.rev).toBe(1);
    });

    it('reports a change as failed when the term ends between its rounds, keeping what was written', async () => {
      await client.set(KEYS.leaderEpoch, '7');
      const results = await store.jobs.updateMany(
        [
          {
            jobId: jobIdOf('a'),
            change: label('a', (call) => {
              if (call === 1) bumpRevision('a', 5);
              else void client.set(KEYS.leaderEpoch, '8');
            }),
          },
          { jobId: jobIdOf('b'), change: label('b') },
        ],
        { epoch: 7 },
      );
      expect(results[0]).toMatchObject({
        status: 'failed',
        error: { code: JobsErrorCode.STALE_FENCE },
      });
      expect(results[1]).toMatchObject({ status: 'updated', job: { labels: { b: '1' } } });
      expect((await store.jobs.get(jobIdOf('a')))?.labels).toEqual({});
      expect((await store.jobs.get(jobIdOf('b')))?.labels).toEqual({ b: '1' });
    });

    it('reads a batch in one round trip and writes it with one script', async () => {
      const many = Array.from({ length: 100 }, (_, i) => `m${i}`);
      for (const id of many) await store.jobs.create(sampleJob('g', 'p', id));
      await store.jobs.update(jobIdOf('a'), (j) => ({ job: j })); // loads the script
      const before = await commandCalls(client);
      const results = await store.jobs.updateMany(
        many.map((id) => ({ jobId: jobIdOf(id), change: (j: Job) => ({ job: j }) })),
      );
      const after = await commandCalls(client);
      expect(results.every((r) => r.status === 'updated')).toBe(true);
      expect(after.hmget - before.hmget).toBe(2); // specs and runtimes, in one pipeline
      expect(after.evalsha + after.eval - before.evalsha - before.eval).toBe(1);
    });
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

  it('lists many jobs in two round trips, reading the stored JSON in slices sent at once', async () => {
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        store.jobs.create(sampleJob(`g${i % 7}`, 'p', `job-${i}`)),
      ),
    );
    const sent: string[] = [];
    let repliesBeforeLastSend = 0;
    let replies = 0;
    const original = client.sendCommand.bind(client);
    client.sendCommand = (command, stream) => {
      sent.push(command.name);
      repliesBeforeLastSend = replies;
      void command.promise.then(() => replies++);
      return original(command, stream);
    };
    const jobs = await store.jobs.list({});
    expect(jobs).toHaveLength(2000);
    expect(jobs.map((job) => job.jobId.id)).toContain('job-1999');
    // The index, then spec and runtime of 4 slices of 500, all sent once the index is known.
    expect(sent).toEqual(['zrangebylex', ...Array<string>(8).fill('hmget')]);
    expect(repliesBeforeLastSend).toBe(1);
  });

  it('lists a job changed by another instance as it is now, reusing only unchanged decodings', async () => {
    await store.jobs.create(sampleJob('g', 'p', 'a'));
    await store.jobs.create(sampleJob('g', 'p', 'b'));
    const [a1, b1] = await store.jobs.list({});
    const other = createRedisConnection(server.url);
    try {
      await openStore(other).jobs.update({ group: 'g', project: 'p', id: 'b' }, (job) => ({
        job: withRuntime(job, { state: 'Running', currentTaskId: 'task-b' }),
      }));
    } finally {
      other.disconnect();
    }
    const [a2, b2] = await store.jobs.list({});
    expect(a2).toBe(a1);
    expect(b2).not.toBe(b1);
    expect(b2.runtime).toMatchObject({ state: 'Running', currentTaskId: 'task-b' });
    expect(await store.jobs.get({ group: 'g', project: 'p', id: 'b' })).toBe(b2);
  });
});

/** Calls per command since the server started (commands run by scripts included), from INFO. */
async function commandCalls(client: Redis): Promise<Record<'hmget' | 'evalsha' | 'eval', number>> {
  const info = await client.info('commandstats');
  const calls = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
  return { hmget: calls('hmget'), evalsha: calls('evalsha'), eval: calls('eval') };
}
