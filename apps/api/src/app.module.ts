import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
  type Type,
} from '@nestjs/common';
import { APP_GUARD, APP_PIPE } from '@nestjs/core';
import { AuthzModule } from '@rhythm/authz';
import { JobsModule } from '@rhythm/jobs';
import { MesosModule, MesosRunner } from '@rhythm/mesos-adapter';
import {
  AwsRunnersModule,
  RunnersModule,
  SecretsModule,
  WebhookRunnerModule,
} from '@rhythm/runners';
import { join } from 'node:path';
import {
  DEFAULT_SCHEDULING_SETTINGS,
  SchedulingModule,
  type LeaderElectionOptions,
} from '@rhythm/scheduling';
import { mesosRunnerOptions } from './config/mesos-runner-options';
import { RHYTHM_CONFIG, type RhythmConfig } from './config/rhythm-config';
import { AccessGuard } from './auth/access.guard';
import { ClusterController } from './cluster/cluster.controller';
import { HealthController } from './health/health.controller';
import { RawBodyMiddleware } from './http/raw-body.middleware';
import { RequestValidationPipe } from './http/request-validation.pipe';
import { JobsController } from './jobs/jobs.controller';
import { JobRunnerValidator } from './jobs/job-runner.validator';
import { QueueController } from './jobs/queue.controller';
import { MetricsModule } from './metrics/metrics.module';

/** What an embedding program adds to the app, e.g. modules providing its own runners. */
export interface AppExtensions {
  readonly modules?: ReadonlyArray<Type | DynamicModule>;
}

/** Wires the domain modules for one configuration and maps HTTP onto their use cases. */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: RhythmConfig, extensions: AppExtensions = {}): DynamicModule {
    const { scheduling, storage } = config;
    const election: LeaderElectionOptions =
      storage.kind === 'redis'
        ? {
            kind: 'redis',
            url: storage.url,
            keyPrefix: storage.keyPrefix,
            ttlMs: scheduling.leaderTtlMs,
          }
        : { kind: 'sole' };
    return {
      module: AppModule,
      global: true,
      imports: [
        JobsModule.forRoot({
          store: storage,
          defaultTimezone: scheduling.timezone,
          retention: {
            maxAgeMs: scheduling.historyMaxAgeMs,
            maxPerJob: scheduling.historyMaxPerJob,
          },
        }),
        AuthzModule.forRoot({ backend: config.api.auth, cacheTtlMs: config.api.authCacheTtlMs }),
        MetricsModule,
        SecretsModule.forRoot(config.secrets ?? { backend: 'environment' }),
        RunnersModule.forRoot({
          local: { logDir: config.runners.logDir, logMaxAgeMs: scheduling.historyMaxAgeMs },
          ...(config.mesos ? { commandRunner: MesosRunner } : {}),
        }),
        ...(config.mesos ? [MesosModule.forRoot(mesosRunnerOptions(config.mesos))] : []),
        AwsRunnersModule.forRoot({
          logDir: join(config.runners.logDir, 'aws'),
          logMaxAgeMs: scheduling.historyMaxAgeMs,
          accounts: config.aws?.accounts ?? {},
          ...(config.aws ? { pollIntervalMs: config.aws.pollIntervalMs } : {}),
        }),
        WebhookRunnerModule.forRoot({ logDir: join(config.runners.logDir, 'webhook') }),
        SchedulingModule.forRoot({
          election,
          settings: {
            ...DEFAULT_SCHEDULING_SETTINGS,
            pollIntervalMs: scheduling.pollIntervalMs,
            reconcileIntervalMs: scheduling.reconcileIntervalMs,
          },
        }),
        ...(extensions.modules ?? []),
      ],
      controllers: [JobsController, QueueController, HealthController, ClusterController],
      providers: [
        { provide: RHYTHM_CONFIG, useValue: config },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
        { provide: APP_GUARD, useClass: AccessGuard },
        JobRunnerValidator,
      ],
      exports: [RHYTHM_CONFIG],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RawBodyMiddleware).forRoutes(JobsController);
  }
}
