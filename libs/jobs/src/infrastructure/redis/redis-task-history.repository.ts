import type Redis from 'ioredis';
import type {
  HistoryRetention,
  TaskHistoryRepository,
  TaskPage,
} from '../../application/ports/task-history.port';
import type { JobId } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';
import { decodeTask } from '../job-codec';
import { inRedis } from './redis-connection';
import type { RedisJobKeys } from './redis-job-keys';

const SEQUENCE_PREFIX_LENGTH = 17;

/** Records are appended by RedisJobRepository.update, with the change that closes them. */
export class RedisTaskHistoryRepository implements TaskHistoryRepository {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisJobKeys,
    private readonly retention: HistoryRetention,
  ) {}

  list(jobId: JobId, page?: TaskPage): Promise<TaskRecord[]> {
    return inRedis(async () => {
      const members = page
        ? await this.redis.zrangebyscore(
            this.keys.tasks(jobId),
            this.oldestKept(),
            '+inf',
            'LIMIT',
            page.offset,
            page.limit,
          )
        : await this.redis.zrangebyscore(this.keys.tasks(jobId), this.oldestKept(), '+inf');
      return members.map((member) => decodeTask(member.slice(SEQUENCE_PREFIX_LENGTH)));
    });
  }

  count(jobId: JobId): Promise<number> {
    return inRedis(() => this.redis.zcount(this.keys.tasks(jobId), this.oldestKept(), '+inf'));
  }

  /** Records past the retention age are hidden at once, before the next append trims them. */
  private oldestKept(): number {
    return Date.now() - this.retention.maxAgeMs;
  }
}
