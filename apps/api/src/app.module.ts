import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { JobsModule } from '@rhythm/jobs';
import { LEADER_ELECTION, SoleInstanceLeaderElection } from '@rhythm/scheduling';
import { RHYTHM_CONFIG, type RhythmConfig } from './config/rhythm-config';
import { HealthController } from './health/health.controller';
import { RawBodyMiddleware } from './http/raw-body.middleware';
import { RequestValidationPipe } from './http/request-validation.pipe';
import { JobsController } from './jobs/jobs.controller';
import { MetricsModule } from './metrics/metrics.module';

/** Wires the domain modules for one configuration and maps HTTP onto their use cases. */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: RhythmConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [JobsModule.forRoot(config.storage), MetricsModule],
      controllers: [JobsController, HealthController],
      providers: [
        { provide: RHYTHM_CONFIG, useValue: config },
        // Until leader election lands, one instance per store is the supported deployment.
        { provide: LEADER_ELECTION, useClass: SoleInstanceLeaderElection },
        { provide: APP_PIPE, useClass: RequestValidationPipe },
      ],
      exports: [RHYTHM_CONFIG, LEADER_ELECTION],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RawBodyMiddleware).forRoutes(JobsController);
  }
}
