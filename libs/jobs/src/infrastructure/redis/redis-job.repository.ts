import type Redis from 'ioredis';
import type { JobRepository, QueuedRun } from '../../application/ports/job-repository.port';
import type { Job } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import { jobKey, jobKeyPrefix, parseJobKey } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import { decodeJob, encodeRuntime, encodeSpec } from '../job-codec';
import { inRedis, RedisScript } from './redis-connection';
import type { RedisJobKeys } from './redis-job-keys';

// KEYS: specs, runtimes, index. ARGV: path, spec, runtime.
const CREATE = new RedisScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1`);

// KEYS: specs. ARGV: path, expected spec, new spec. Compare-and-set against concurrent edits.
const REPLACE_SPEC = new RedisScript(`
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return -1 end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1`);

// KEYS: specs, runtimes, index, run queue, the job's tasks. ARGV: path.
const DELETE = new RedisScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
return 1`);

// KEYS: specs, run queue. ARGV: path, request time (ms).
const ENQUEUE = new RedisScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return -1 end
return redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])`);

// KEYS: specs, runtimes, index. ARGV: lex min, lex max. One round trip and one consistent view,
// however many jobs match: returns path, spec, runtime triples in path order.
const LIST = new RedisScript(`
local paths = redis.call('ZRANGEBYLEX', KEYS[3], ARGV[1], ARGV[2])
local out = {}
for i, path in ipairs(paths) do
  local spec = redis.call('HGET', KEYS[1], path)
  local runtime = redis.call('HGET', KEYS[2], path)
  if spec and runtime then
    out[#out + 1] = path
    out[#out + 1] = spec
    out[#out + 1] = runtime
  end
end
return out`);

/** Concurrent edits of one job retry their read-modify-write; this bounds a pathological storm. */
const MAX_UPDATE_ATTEMPTS = 100;

export class RedisJobRepository implements JobRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
  ) {}

  create(job: Job): Promise<void> {
    return inRedis(async () => {
      const created = await CREATE.run(
        this.redis,
        [this.keys.specs, this.keys.runtimes, this.keys.index],
        [jobKey(job.jobId), encodeSpec(job), encodeRuntime(job.runtime)],
      );
      if (created === 0) throw JobsError.alreadyExists();
    });
  }

  get(jobId: JobId): Promise<Job | null> {
    return inRedis(async () => {
      const path = jobKey(jobId);
      const [spec, runtime] = await this.readRaw(path);
      return spec === null || runtime === null ? null : decodeJob(jobId, spec, runtime);
    });
  }

  list(filter: JobFilter): Promise<Job[]> {
    return inRedis(async () => {
      const prefix = jobKeyPrefix(filter);
      const range = prefix === '' ? ['-', '+'] : [`[${prefix}`, `(${prefix}\xff`];
      const flat = (await LIST.run(
        this.redis,
        [this.keys.specs, this.keys.runtimes, this.keys.index],
        range,
      )) as string[];
      const jobs: Job[] = [];
      for (let i = 0; i < flat.length; i += 3) {
        jobs.push(decodeJob(parseJobKey(flat[i]), flat[i + 1], flat[i + 2]));
      }
      return jobs;
    });
  }

  updateSpec(jobId: JobId, change: (job: Job) => Job): Promise<Job> {
    return inRedis(async () => {
      const path = jobKey(jobId);
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const [spec, runtime] = await this.readRaw(path);
        if (spec === null || runtime === null) throw JobsError.notFound();
        const updated = change(decodeJob(jobId, spec, runtime));
        const outcome = await REPLACE_SPEC.run(
          this.redis,
          [this.keys.specs],
          [path, spec, encodeSpec(updated)],
        );
        if (outcome === -1) throw JobsError.notFound();
        if (outcome === 1) return { ...updated, runtime: decodeJob(jobId, spec, runtime).runtime };
      }
      throw new Error(`Job ${path} changed ${MAX_UPDATE_ATTEMPTS} times during one update`);
    });
  }

  delete(jobId: JobId): Promise<boolean> {
    return inRedis(async () => {
      const path = jobKey(jobId);
      const deleted = await DELETE.run(
        this.redis,
        [
          this.keys.specs,
          this.keys.runtimes,
          this.keys.index,
          this.keys.runQueue,
          this.keys.tasksOf(path),
        ],
        [path],
      );
      return deleted === 1;
    });
  }

  enqueueRun(jobId: JobId, requestedAt: Date): Promise<boolean> {
    return inRedis(async () => {
      const added = await ENQUEUE.run(
        this.redis,
        [this.keys.specs, this.keys.runQueue],
        [jobKey(jobId), requestedAt.getTime()],
      );
      if (added === -1) throw JobsError.notFound();
      return added === 1;
    });
  }

  listQueuedRuns(): Promise<QueuedRun[]> {
    return inRedis(async () => {
      const flat = await this.redis.zrange(this.keys.runQueue, '0', '-1', 'WITHSCORES');
      const runs: QueuedRun[] = [];
      for (let i = 0; i < flat.length; i += 2) {
        runs.push({ jobId: parseJobKey(flat[i]), requestedAt: new Date(Number(flat[i + 1])) });
      }
      return runs;
    });
  }

  private async readRaw(path: string): Promise<[string | null, string | null]> {
    const results = await this.redis
      .pipeline()
      .hget(this.keys.specs, path)
      .hget(this.keys.runtimes, path)
      .exec();
    if (!results) throw new Error('Redis pipeline was discarded');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value as string | null;
    }) as [string | null, string | null];
  }
}
