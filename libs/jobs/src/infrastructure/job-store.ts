import type { JobRepository } from '../application/ports/job-repository.port';
import type { SchedulerStateRepository } from '../application/ports/scheduler-state.port';
import type {
  HistoryRetention,
  TaskHistoryRepository,
} from '../application/ports/task-history.port';
import { EmbeddedStore } from './embedded/embedded-store';
import { EmbeddedJobRepository } from './embedded/embedded-job.repository';
import { EmbeddedSchedulerStateRepository } from './embedded/embedded-scheduler-state.repository';
import { EmbeddedTaskHistoryRepository } from './embedded/embedded-task-history.repository';
import { createRedisConnection } from './redis/redis-connection';
import { RedisJobKeys } from './redis/redis-job-keys';
import { RedisJobRepository } from './redis/redis-job.repository';
import { RedisSchedulerStateRepository } from './redis/redis-scheduler-state.repository';
import { RedisTaskHistoryRepository } from './redis/redis-task-history.repository';

export type JobStoreOptions =
  | { readonly kind: 'embedded'; readonly dataDir: string }
  | { readonly kind: 'redis'; readonly url: string; readonly keyPrefix: string };

/** An opened store: the repositories over one backend, and how to release it. */
export interface JobStore {
  readonly jobs: JobRepository;
  readonly tasks: TaskHistoryRepository;
  readonly state: SchedulerStateRepository;
  close(): Promise<void>;
}

export async function openJobStore(
  options: JobStoreOptions,
  retention: HistoryRetention,
): Promise<JobStore> {
  switch (options.kind) {
    case 'embedded': {
      const store = await EmbeddedStore.open(options.dataDir, { retention });
      return {
        jobs: new EmbeddedJobRepository(store),
        tasks: new EmbeddedTaskHistoryRepository(store),
        state: new EmbeddedSchedulerStateRepository(store),
        close: () => store.close(),
      };
    }
    case 'redis': {
      const redis = createRedisConnection(options.url);
      const keys = new RedisJobKeys(options.keyPrefix);
      return {
        jobs: new RedisJobRepository(redis, keys, retention),
        tasks: new RedisTaskHistoryRepository(redis, keys, retention),
        state: new RedisSchedulerStateRepository(redis, keys),
        close: async () => {
          await redis.quit().catch(() => redis.disconnect());
        },
      };
    }
  }
}
