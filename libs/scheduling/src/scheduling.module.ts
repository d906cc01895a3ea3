import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { createRedisConnection } from '@rhythm/jobs';
import type Redis from 'ioredis';
import { LEADER_ELECTION } from './application/ports/leader-election.port';
import { SchedulerService } from './application/scheduler.service';
import { TaskLogsService } from './application/task-logs.service';
import { RedisLeaderElection } from './infrastructure/redis/redis-leader-election';
import { SoleInstanceLeaderElection } from './infrastructure/sole-instance-leader-election';
import { SCHEDULING_SETTINGS, type SchedulingSettings } from './scheduling.settings';

export type LeaderElectionOptions =
  | { readonly kind: 'sole' }
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly keyPrefix: string;
      readonly ttlMs: number;
    };

/**
 * The scheduler and its leader election. The app provides COMMAND_RUNNER (a runners module) and
 * SCHEDULER_METRICS; jobs come from JobsModule.
 */
@Module({})
export class SchedulingModule {
  static forRoot(options: {
    election: LeaderElectionOptions;
    settings: SchedulingSettings;
  }): DynamicModule {
    return {
      module: SchedulingModule,
      global: true,
      providers: [
        { provide: SCHEDULING_SETTINGS, useValue: options.settings },
        ...leaderElectionProviders(options.election),
        SchedulerService,
        TaskLogsService,
      ],
      exports: [LEADER_ELECTION, SchedulerService, TaskLogsService],
    };
  }
}

const ELECTION_REDIS = Symbol('ELECTION_REDIS');

/** The election's own connection, closed after the scheduler has given up its term. */
class ElectionConnectionCloser implements OnApplicationShutdown {
  constructor(@Inject(ELECTION_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

function leaderElectionProviders(options: LeaderElectionOptions): Provider[] {
  switch (options.kind) {
    case 'sole':
      return [{ provide: LEADER_ELECTION, useClass: SoleInstanceLeaderElection }];
    case 'redis':
      return [
        { provide: ELECTION_REDIS, useFactory: () => createRedisConnection(options.url) },
        {
          provide: LEADER_ELECTION,
          useFactory: (redis: Redis) =>
            new RedisLeaderElection(redis, { keyPrefix: options.keyPrefix, ttlMs: options.ttlMs }),
          inject: [ELECTION_REDIS],
        },
        ElectionConnectionCloser,
      ];
  }
}
