import type Redis from 'ioredis';
import type { TaskHistoryRepository } from '../../application/ports/task-history.port';
import type { JobId } from '../../domain/job-id';
import { jobKey } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';
import { decodeTask, encodeTask } from '../job-codec';
import { inRedis, RedisScript } from './redis-connection';
import type { RedisJobKeys } from './redis-job-keys';

// KEYS: specs, task sequence, the job's tasks. ARGV: path, end (ms), task JSON.
// A record for a job deleted meanwhile is dropped, so no history outlives its job.
const APPEND = new RedisScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
local seq = redis.call('INCR', KEYS[2])
redis.call('ZADD', KEYS[3], ARGV[2], string.format('%016d', seq) .. ':' .. ARGV[3])
return 1`);

const SEQUENCE_PREFIX_LENGTH = 17;

export class RedisTaskHistoryRepository implements TaskHistoryRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
  ) {}

  append(jobId: JobId, task: TaskRecord): Promise<void> {
    return inRedis(async () => {
      await APPEND.run(
        this.redis,
        [this.keys.specs, this.keys.taskSequence, this.keys.tasks(jobId)],
        [jobKey(jobId), task.end.getTime(), encodeTask(task)],
      );
    });
  }

  list(jobId: JobId): Promise<TaskRecord[]> {
    return inRedis(async () => {
      const members = await this.redis.zrange(this.keys.tasks(jobId), '0', '-1');
      return members.map((member) => decodeTask(member.slice(SEQUENCE_PREFIX_LENGTH)));
    });
  }
}
