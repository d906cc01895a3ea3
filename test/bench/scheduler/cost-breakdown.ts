import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import {
  CronExpression,
  createRedisConnection,
  newJob,
  RedisJobKeys,
  type Job,
  type JobId,
  type JobSpec,
} from '@rhythm/jobs';
import { decodeJob, encodeRuntime, encodeSpec } from '@rhythm/jobs/infrastructure/job-codec';
import { RedisJobRepository } from '@rhythm/jobs/infrastructure/redis/redis-job.repository';
import { newTaskId } from '@rhythm/scheduling';
import { decideDue } from '@rhythm/scheduling/domain/run-decisions';
import type { BenchRedis } from './common';

/** What one step of launching a due job costs, measured alone. */
export interface CostRow {
  readonly what: string;
  readonly usPerOp: number;
  /** Operations per second (for the store rows: at the given concurrency). */
  readonly opsPerSecond: number;
}

const JOBS = 2_000;
/** Jobs per updateMany call: the scheduler's default batch size. */
const BATCH = 500;
const PREFIX = 'cost:';

const SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '* * * * *' },
  env: {},
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine', forcePullImage: false } },
  cpus: 0.1,
  mem: 16,
  disk: 0,
  cmd: 'true',
  user: '',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

/**
 * The per-job steps of the scheduler's hot path, each timed alone in this process: the cron
 * parsing a decision does, the decision, the JSON codec, one Redis round trip, and the store's
 * update (read pipeline + Lua script) sequentially and with 32 at once, with the connection as
 * the store creates it and with ioredis auto-pipelining, and its batch update (what the
 * scheduler uses) per job.
 */
export async function measureCosts(redis: BenchRedis): Promise<CostRow[]> {
  const rows: CostRow[] = [];
  const sync = (what: string, n: number, fn: (i: number) => void): void => {
    for (let i = 0; i < Math.ceil(n / 10); i++) fn(i);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    const us = ((performance.now() - t0) * 1000) / n;
    rows.push({ what, usPerOp: us, opsPerSecond: 1e6 / us });
  };

  const now = new Date();
  const due: Job = {
    ...newJob({ group: 'g', project: 'p', id: 'j' }, SPEC, new Date(now.getTime() - 61_000), 'UTC'),
  };
  const parsed = CronExpression.parse('* * * * *', 'UTC');
  sync(
    "CronExpression.parse('* * * * *') (once per decision; checks with a nextRun)",
    5_000,
    () => {
      CronExpression.parse('* * * * *', 'UTC');
    },
  );
  sync('CronExpression.nextAfter (parsed once)', 20_000, (i) => {
    parsed.nextAfter(new Date(now.getTime() + i * 1000));
  });
  const ctx = { now, defaultTimezone: 'UTC', runner: 'noop', newTaskId };
  sync('decideDue of a due cron job (domain, all of it)', 5_000, () => {
    decideDue(due, ctx);
  });
  const specText = encodeSpec(due);
  const runtimeText = encodeRuntime(due.runtime);
  sync('decodeJob (spec + runtime JSON)', 20_000, () => {
    decodeJob(due.jobId, specText, runtimeText);
  });
  sync('encodeSpec + encodeRuntime', 20_000, () => {
    encodeSpec(due);
    encodeRuntime(due.runtime);
  });

  // Redis: one round trip, and the store's update.
  const plain = createRedisConnection(redis.url);
  const autoPipelined = new Redis(redis.url, {
    maxRetriesPerRequest: 1,
    commandTimeout: 5_000,
    enableAutoPipelining: true,
  });
  try {
    const keys = new RedisJobKeys(PREFIX);
    const retention = { maxAgeMs: 7 * 24 * 3600 * 1000, maxPerJob: 1000 };
    const store = new RedisJobRepository(plain, keys, retention);
    const ids: JobId[] = Array.from({ length: JOBS }, (_, i) => ({
      group: 'cost',
      project: 'p',
      id: `j${i}`,
    }));
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        ids.slice(i, i + 100).map((id) => store.create(newJob(id, SPEC, now, 'UTC'))),
      );
    }
    const asyncRow = async (
      what: string,
      n: number,
      concurrency: number,
      fn: (i: number) => Promise<unknown>,
    ): Promise<void> => {
      await fn(0);
      let next = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < n) await fn(next++);
        }),
      );
      const ms = performance.now() - t0;
      rows.push({ what, usPerOp: (ms * 1000) / n, opsPerSecond: (n * 1000) / ms });
    };
    await asyncRow('Redis PING round trip, one at a time', 2_000, 1, () => plain.ping());
    const touch =
      (repository: RedisJobRepository) =>
      (i: number): Promise<Job> =>
        repository.update(ids[i % JOBS], (job) => ({
          job: { ...job, runtime: { ...job.runtime, currentAgentId: `a${i}` } },
        }));
    await asyncRow('store update (read pipeline + Lua), one at a time', 2_000, 1, touch(store));
    await asyncRow('store update, 32 at once (scheduler concurrency)', 10_000, 32, touch(store));
    await asyncRow('store update, 128 at once', 10_000, 128, touch(store));
    const pipelined = new RedisJobRepository(autoPipelined, keys, retention);
    await asyncRow(
      'store update, 32 at once, ioredis enableAutoPipelining',
      10_000,
      32,
      touch(pipelined),
    );
    await asyncRow(
      'store update, 128 at once, ioredis enableAutoPipelining',
      10_000,
      128,
      touch(pipelined),
    );
    // Per job: one call writes BATCH jobs (one read pipeline and one script).
    const batchRow = async (what: string, batches: number): Promise<void> => {
      let offset = 0;
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        await store.updateMany(
          Array.from({ length: BATCH }, (_, i) => ({
            jobId: ids[(offset + i) % JOBS],
            change: (job: Job) => ({
              job: { ...job, runtime: { ...job.runtime, currentAgentId: `b${b}` } },
            }),
          })),
        );
        offset += BATCH;
      }
      const ms = performance.now() - t0;
      const n = batches * BATCH;
      rows.push({ what, usPerOp: (ms * 1000) / n, opsPerSecond: (n * 1000) / ms });
    };
    await batchRow(`store updateMany of ${BATCH} jobs, per job`, 20);
    await asyncRow('store listDue(now, 500) with 2000 due', 200, 1, () =>
      store.listDue(new Date(now.getTime() + 3_600_000), 500),
    );
  } finally {
    plain.disconnect();
    autoPipelined.disconnect();
  }
  return rows;
}
