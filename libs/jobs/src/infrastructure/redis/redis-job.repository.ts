import type Redis from 'ioredis';
import type { Fence, JobChange, JobRepository } from '../../application/ports/job-repository.port';
import type { HistoryRetention } from '../../application/ports/task-history.port';
import type { Job } from '../../domain/job';
import { dueAt } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import { jobKey, jobKeyPrefix, parseJobKey } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import { decodeJob, encodeRuntime, encodeSpec, encodeTask } from '../job-codec';
import { inRedis, RedisScript } from './redis-connection';
import type { RedisJobKeys } from './redis-job-keys';

// KEYS: specs, runtimes, index, due, in flight. ARGV: path, spec, runtime, due score ('' for
// none), '1' when a run is in flight.
const CREATE = new RedisScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1]) end
if ARGV[5] == '1' then redis.call('SADD', KEYS[5], ARGV[1]) end
return 1`);

// KEYS: specs, runtimes, due, the job's tasks, task sequence, leader epoch, in flight.
// ARGV: path, expected rev, spec ('' = unchanged), runtime, due score ('' = none), epoch ('' = not
// fenced), oldest end score kept, most records kept, '1' when a run is in flight, then
// (end score, task JSON) pairs.
// Returns -2 stale fence, -1 no such job, 0 revision changed meanwhile, 1 written.
const UPDATE = new RedisScript(`
if ARGV[6] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[6] then return -2 end
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return -1 end
if (cjson.decode(current).rev or 0) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
if ARGV[5] == '' then redis.call('ZREM', KEYS[3], ARGV[1]) else redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1]) end
if ARGV[9] == '1' then redis.call('SADD', KEYS[7], ARGV[1]) else redis.call('SREM', KEYS[7], ARGV[1]) end
if #ARGV > 9 then
  for i = 10, #ARGV, 2 do
    local seq = redis.call('INCR', KEYS[5])
    redis.call('ZADD', KEYS[4], ARGV[i], string.format('%016d', seq) .. ':' .. ARGV[i + 1])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[7])
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[8]) - 1)
end
return 1`);

// KEYS: specs, runtimes, index, due, the job's tasks, in flight. ARGV: path.
const DELETE = new RedisScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
return 1`);

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

/** Concurrent changes of one job retry their read-modify-write; this bounds a pathological storm. */
const MAX_UPDATE_ATTEMPTS = 100;

export class RedisJobRepository implements JobRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
    private readonly retention: HistoryRetention,
  ) {}

  create(job: Job): Promise<void> {
    return inRedis(async () => {
      const created = await CREATE.run(
        this.redis,
        [this.keys.specs, this.keys.runtimes, this.keys.index, this.keys.due, this.keys.inFlight],
        [
          jobKey(job.jobId),
          encodeSpec(job),
          encodeRuntime(job.runtime),
          dueScore(job),
          inFlightFlag(job),
        ],
      );
      if (created === 0) throw JobsError.alreadyExists();
    });
  }

  get(jobId: JobId): Promise<Job | null> {
    return inRedis(async () => {
      const [spec, runtime] = await this.readRaw(jobKey(jobId));
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

  update(jobId: JobId, change: (job: Job) => JobChange | null, fence?: Fence): Promise<Job> {
    return inRedis(async () => {
      const path = jobKey(jobId);
      for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
        const [spec, runtime] = await this.readRaw(path);
        if (spec === null || runtime === null) throw JobsError.notFound();
        const current = decodeJob(jobId, spec, runtime);
        const proposed = change(current);
        if (!proposed) return current;
        const next: Job = {
          ...proposed.job,
          runtime: { ...proposed.job.runtime, rev: current.runtime.rev + 1 },
        };
        const nextSpec = encodeSpec(next);
        const outcome = await UPDATE.run(
          this.redis,
          [
            this.keys.specs,
            this.keys.runtimes,
            this.keys.due,
            this.keys.tasksOf(path),
            this.keys.taskSequence,
            this.keys.leaderEpoch,
            this.keys.inFlight,
          ],
          [
            path,
            current.runtime.rev,
            nextSpec === spec ? '' : nextSpec,
            encodeRuntime(next.runtime),
            dueScore(next),
            fence ? String(fence.epoch) : '',
            Date.now() - this.retention.maxAgeMs,
            this.retention.maxPerJob,
            inFlightFlag(next),
            ...(proposed.history ?? []).flatMap((task) => [task.end.getTime(), encodeTask(task)]),
          ],
        );
        if (outcome === -2) throw JobsError.staleFence(fence?.epoch ?? 0);
        if (outcome === -1) throw JobsError.notFound();
        if (outcome === 1) return next;
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
          this.keys.due,
          this.keys.tasksOf(path),
          this.keys.inFlight,
        ],
        [path],
      );
      return deleted === 1;
    });
  }

  listDue(now: Date, limit: number): Promise<JobId[]> {
    return inRedis(async () => {
      const paths = await this.redis.zrangebyscore(
        this.keys.due,
        '-inf',
        now.getTime(),
        'LIMIT',
        0,
        limit,
      );
      return paths.map(parseJobKey);
    });
  }

  nextDueAt(): Promise<Date | null> {
    return inRedis(async () => {
      const [, score] = await this.redis.zrange(this.keys.due, '0', '0', 'WITHSCORES');
      return score === undefined ? null : new Date(Number(score));
    });
  }

  listInFlight(): Promise<Job[]> {
    return inRedis(async () => {
      const paths = await this.redis.smembers(this.keys.inFlight);
      const jobs = await Promise.all(
        paths.sort().map(async (path) => {
          const [spec, runtime] = await this.readRaw(path);
          return spec === null || runtime === null
            ? null
            : decodeJob(parseJobKey(path), spec, runtime);
        }),
      );
      return jobs.filter((job): job is Job => job !== null);
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

function inFlightFlag(job: Job): string {
  return job.runtime.run ? '1' : '';
}

function dueScore(job: Job): string {
  const due = dueAt(job.runtime);
  return due ? String(due.getTime()) : '';
}
