import type Redis from 'ioredis';
import type { Fence } from '../../application/ports/job-repository.port';
import type { SchedulerStateRepository } from '../../application/ports/scheduler-state.port';
import { JobsError } from '../../domain/jobs.errors';
import { inRedis, RedisScript } from './redis-connection';
import type { RedisJobKeys } from './redis-job-keys';

// KEYS: state hash, leader epoch. ARGV: name, value ('' with ARGV[3] = '1': delete), delete flag,
// epoch ('' = not fenced). Returns -2 when a newer term exists, 1 when written.
const SET_STATE = new RedisScript(`
if ARGV[4] ~= '' and tonumber(redis.call('GET', KEYS[2]) or '0') > tonumber(ARGV[4]) then
  return -2
end
if ARGV[3] == '1' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
return 1
`);

/** Scheduler state as one Redis hash; fenced writes compare the term with the leader epoch. */
export class RedisSchedulerStateRepository implements SchedulerStateRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
  ) {}

  get(name: string): Promise<string | null> {
    return inRedis(() => this.redis.hget(this.keys.schedulerState, name));
  }

  async set(name: string, value: string | null, fence?: Fence): Promise<void> {
    const outcome = await inRedis(() =>
      SET_STATE.run(
        this.redis,
        [this.keys.schedulerState, this.keys.leaderEpoch],
        [name, value ?? '', value === null ? '1' : '0', fence ? String(fence.epoch) : ''],
      ),
    );
    if (outcome === -2) throw JobsError.staleFence(fence?.epoch ?? 0);
  }
}
