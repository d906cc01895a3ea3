import type Redis from 'ioredis';
import type {
  Fence,
  JobBatchChange,
  JobBatchResult,
  JobChange,
  JobRepository,
  OrphanedRun,
} from '../../application/ports/job-repository.port';
import type { HistoryRetention } from '../../application/ports/task-history.port';
import type { Job } from '../../domain/job';
import { dueAt } from '../../domain/job';
import type { JobFilter, JobId } from '../../domain/job-id';
import { jobKey, jobKeyPrefix, parseJobKey } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import { decodeJob, encodeRuntime, encodeSpec, encodeTask } from '../job-codec';
import { DecodedJobCache } from './decoded-job.cache';
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

// Changes many jobs in one round trip, each by compare-and-set on its revision, with one fencing
// check for all of them: a stale epoch writes nothing at all.
// KEYS: specs, runtimes, due, task sequence, leader epoch, in flight, then each job's tasks key.
// ARGV: epoch ('' = not fenced), oldest end score kept, most records kept, then per job: path,
// expected rev, spec ('' = unchanged), runtime, due score ('' = none), '1' when a run is in flight,
// the number n of task records, and n (end score, task JSON) pairs.
// Returns -2 for a stale fence, else one code per job: -1 no such job, 0 revision changed
// meanwhile (not written), 1 written.
const UPDATE_MANY = new RedisScript(`
if ARGV[1] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[1] then return -2 end
local codes = {}
local a = 4
for j = 1, #KEYS - 6 do
  local path = ARGV[a]
  local records = tonumber(ARGV[a + 6])
  local current = redis.call('HGET', KEYS[2], path)
  if not current then
    codes[j] = -1
  elseif (cjson.decode(current).rev or 0) ~= tonumber(ARGV[a + 1]) then
    codes[j] = 0
  else
    if ARGV[a + 2] ~= '' then redis.call('HSET', KEYS[1], path, ARGV[a + 2]) end
    redis.call('HSET', KEYS[2], path, ARGV[a + 3])
    if ARGV[a + 4] == '' then redis.call('ZREM', KEYS[3], path) else redis.call('ZADD', KEYS[3], ARGV[a + 4], path) end
    if ARGV[a + 5] == '1' then redis.call('SADD', KEYS[6], path) else redis.call('SREM', KEYS[6], path) end
    if records > 0 then
      local tasks = KEYS[6 + j]
      for i = a + 7, a + 6 + 2 * records, 2 do
        local seq = redis.call('INCR', KEYS[4])
        redis.call('ZADD', tasks, ARGV[i], string.format('%016d', seq) .. ':' .. ARGV[i + 1])
      end
      redis.call('ZREMRANGEBYSCORE', tasks, '-inf', '(' .. ARGV[2])
      redis.call('ZREMRANGEBYRANK', tasks, 0, -tonumber(ARGV[3]) - 1)
    end
    codes[j] = 1
  end
  a = a + 7 + 2 * records
end
return codes`);

// KEYS: specs, runtimes, index, due, the job's tasks, in flight, orphaned runs. ARGV: path, now
// (ms). A run in flight outlives its job as an orphaned run, for the leader to stop.
const DELETE = new RedisScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local runtime = redis.call('HGET', KEYS[2], ARGV[1])
if runtime then
  local run = cjson.decode(runtime).run
  if type(run) == 'table' and type(run.taskId) == 'string' then
    redis.call('ZADD', KEYS[7], ARGV[2], tostring(run.runner or '') .. ' ' .. run.taskId)
  end
end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
redis.call('SREM', KEYS[6], ARGV[1])
return 1`);

/**
 * Jobs per read of a listing. The slices are all sent at once, so Redis writes slice n + 1 while
 * this process decodes slice n, instead of one big script blocking Redis for the whole listing and
 * the decoding starting only after it. A job changed meanwhile is listed as it was when its slice
 * was read; one deleted meanwhile is left out.
 */
const LIST_SLICE = 500;

/**
 * Decoded jobs kept for reuse by listings (see DecodedJobCache), about 2 KB each: a listing of more
 * jobs than this decodes them all every time, as before the cache.
 */
const MAX_DECODED = 25_000;

/** Concurrent changes of one job retry their read-modify-write; this bounds a pathological storm. */
const MAX_UPDATE_ROUNDS = 100;

export class RedisJobRepository implements JobRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
    private readonly retention: HistoryRetention,
  ) {}

  private readonly decoded = new DecodedJobCache(MAX_DECODED);

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
      const path = jobKey(jobId);
      const [[spec, runtime]] = await this.readMany([path]);
      if (spec === null || runtime === null) return null;
      return this.decoded.decode(path, spec, runtime);
    });
  }

  list(filter: JobFilter): Promise<Job[]> {
    return inRedis(async () => {
      const prefix = jobKeyPrefix(filter);
      const paths =
        prefix === ''
          ? await this.redis.zrangebylex(this.keys.index, '-', '+')
          : await this.redis.zrangebylex(this.keys.index, `[${prefix}`, `(${prefix}\xff`);
      const slices: Array<Promise<Array<[string | null, string | null]>>> = [];
      for (let start = 0; start < paths.length; start += LIST_SLICE) {
        slices.push(this.readMany(paths.slice(start, start + LIST_SLICE)));
      }
      const jobs: Job[] = [];
      for (let s = 0; s < slices.length; s++) {
        const stored = await slices[s];
        stored.forEach(([spec, runtime], i) => {
          // A job deleted since the index was read has neither; it is simply not listed.
          if (spec !== null && runtime !== null) {
            jobs.push(this.decoded.decode(paths[s * LIST_SLICE + i], spec, runtime));
          }
        });
      }
      if (prefix === '') this.decoded.retainOnly(paths);
      return jobs;
    });
  }

  async update(jobId: JobId, change: (job: Job) => JobChange | null, fence?: Fence): Promise<Job> {
    const [result] = await this.updateMany([{ jobId, change }], fence);
    switch (result.status) {
      case 'updated':
      case 'unchanged':
        return result.job;
      case 'not-found':
        throw JobsError.notFound();
      case 'failed':
        throw result.error;
    }
  }

  updateMany(changes: readonly JobBatchChange[], fence?: Fence): Promise<JobBatchResult[]> {
    return inRedis(async () => {
      const results: JobBatchResult[] = new Array<JobBatchResult>(changes.length);
      let pending = changes.map((_, index) => index);
      for (let round = 0; pending.length > 0; round++) {
        if (round === MAX_UPDATE_ROUNDS) {
          const storm = new Error(`Jobs changed ${MAX_UPDATE_ROUNDS} times during one update`);
          fail(results, pending, JobsError.storeUnavailable(storm));
          break;
        }
        try {
          pending = await this.updateRound(changes, pending, results, fence);
        } catch (error) {
          // Changes written by an earlier round stand; the caller must learn which.
          if (round === 0) throw error;
          fail(results, pending, asJobsError(error));
          break;
        }
      }
      return results;
    });
  }

  /**
   * Reads the pending jobs in one round trip, applies their changes and writes them with one
   * script. Fills in `results` and returns the changes whose job moved on meanwhile.
   */
  private async updateRound(
    changes: readonly JobBatchChange[],
    pending: readonly number[],
    results: JobBatchResult[],
    fence: Fence | undefined,
  ): Promise<number[]> {
    const paths = pending.map((index) => jobKey(changes[index].jobId));
    const stored = await this.readMany(paths);
    const keys = [
      this.keys.specs,
      this.keys.runtimes,
      this.keys.due,
      this.keys.taskSequence,
      this.keys.leaderEpoch,
      this.keys.inFlight,
    ];
    const args: Array<string | number> = [
      fence ? String(fence.epoch) : '',
      Date.now() - this.retention.maxAgeMs,
      this.retention.maxPerJob,
    ];
    const writes: Array<{ readonly index: number; readonly job: Job }> = [];
    pending.forEach((index, i) => {
      const [spec, runtime] = stored[i];
      const { jobId, change } = changes[index];
      if (spec === null || runtime === null) {
        results[index] = { status: 'not-found' };
        return;
      }
      // Not from the cache: a job read to be changed is about to be stored anew.
      const current = decodeJob(jobId, spec, runtime);
      const proposed = change(current);
      if (!proposed) {
        results[index] = { status: 'unchanged', job: current };
        return;
      }
      const next: Job = {
        ...proposed.job,
        runtime: { ...proposed.job.runtime, rev: current.runtime.rev + 1 },
      };
      const history = proposed.history ?? [];
      keys.push(this.keys.tasksOf(paths[i]));
      args.push(
        paths[i],
        current.runtime.rev,
        changedSpec(current, spec, next),
        encodeRuntime(next.runtime),
        dueScore(next),
        inFlightFlag(next),
        history.length,
      );
      for (const task of history) args.push(task.end.getTime(), encodeTask(task));
      writes.push({ index, job: next });
    });
    if (writes.length === 0) return [];
    const codes = await UPDATE_MANY.run(this.redis, keys, args);
    if (codes === -2) throw JobsError.staleFence(fence?.epoch ?? 0);
    const moved: number[] = [];
    (codes as number[]).forEach((code, w) => {
      const { index, job } = writes[w];
      if (code === 1) results[index] = { status: 'updated', job };
      else if (code === -1) results[index] = { status: 'not-found' };
      else moved.push(index);
    });
    return moved;
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
          this.keys.orphanedRuns,
        ],
        [path, Date.now()],
      );
      this.decoded.forget(path);
      return deleted === 1;
    });
  }

  listOrphanedRuns(): Promise<OrphanedRun[]> {
    return inRedis(async () => {
      const members = await this.redis.zrange(this.keys.orphanedRuns, '0', '-1');
      return members.map((member) => {
        const space = member.indexOf(' ');
        return { runner: member.slice(0, space), taskId: member.slice(space + 1) };
      });
    });
  }

  forgetOrphanedRuns(taskIds: readonly string[]): Promise<void> {
    return inRedis(async () => {
      if (taskIds.length === 0) return;
      const forget = new Set(taskIds);
      const members = await this.redis.zrange(this.keys.orphanedRuns, '0', '-1');
      const gone = members.filter((member) => forget.has(member.slice(member.indexOf(' ') + 1)));
      if (gone.length > 0) await this.redis.zrem(this.keys.orphanedRuns, ...gone);
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
      const paths = (await this.redis.smembers(this.keys.inFlight)).sort();
      const stored = await this.readMany(paths);
      const jobs: Job[] = [];
      paths.forEach((path, i) => {
        const [spec, runtime] = stored[i];
        if (spec !== null && runtime !== null) {
          jobs.push(decodeJob(parseJobKey(path), spec, runtime));
        }
      });
      return jobs;
    });
  }

  /** Spec and runtime of each path (null where absent), in one round trip. */
  private async readMany(paths: readonly string[]): Promise<Array<[string | null, string | null]>> {
    if (paths.length === 0) return [];
    const replies = await this.redis
      .pipeline()
      .hmget(this.keys.specs, ...paths)
      .hmget(this.keys.runtimes, ...paths)
      .exec();
    if (!replies) throw new Error('Redis pipeline was discarded');
    const [specs, runtimes] = replies.map(([error, value]) => {
      if (error) throw error;
      return value as Array<string | null>;
    });
    return paths.map((_, i) => [specs[i], runtimes[i]]);
  }
}

function inFlightFlag(job: Job): string {
  return job.runtime.run ? '1' : '';
}

function dueScore(job: Job): string {
  const due = dueAt(job.runtime);
  return due ? String(due.getTime()) : '';
}

function fail(results: JobBatchResult[], indexes: readonly number[], error: JobsError): void {
  for (const index of indexes) results[index] = { status: 'failed', error };
}

function asJobsError(error: unknown): JobsError {
  return error instanceof JobsError ? error : JobsError.storeUnavailable(error);
}

/**
 * The spec argument of a write: '' when unchanged. A change that keeps every spec field by
 * reference (every scheduler write) is known unchanged without encoding the spec.
 */
function changedSpec(current: Job, storedSpec: string, next: Job): string {
  if (sameSpecFields(current, next)) return '';
  const spec = encodeSpec(next);
  return spec === storedSpec ? '' : spec;
}

function sameSpecFields(current: Job, next: Job): boolean {
  const fields = Object.keys(next) as Array<keyof Job>;
  return (
    fields.length === Object.keys(current).length &&
    fields.every(
      (field) =>
        field === 'runtime' ||
        (Object.prototype.hasOwnProperty.call(current, field) && current[field] === next[field]),
    )
  );
}
