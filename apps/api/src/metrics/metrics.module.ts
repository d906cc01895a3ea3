import {
  Controller,
  Get,
  Global,
  Inject,
  Module,
  Res,
  UseGuards,
  type OnModuleInit,
} from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { MetricsTokenGuard } from './metrics-token.guard';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { Response } from 'express';
import { Gauge, register } from 'prom-client';
import { LEADER_ELECTION, SCHEDULER_METRICS, type LeaderElection } from '@rhythm/scheduling';
import { PrometheusSchedulerMetrics } from './prometheus-scheduler-metrics';
import { RHYTHM_CONFIG, type RhythmConfig } from '../config/rhythm-config';

@ApiTags('operations')
@UseGuards(MetricsTokenGuard)
@ApiSecurity('token')
@Controller()
class MetricsController extends PrometheusController {
  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics',
    description: 'Text exposition format; needs no credentials.',
  })
  @ApiProduces('text/plain')
  override async index(@Res({ passthrough: true }) response: Response): Promise<string> {
    return super.index(response);
  }
}

/** The original Rhythm's own series, `rhythm_info{version}` and `leader`, read at scrape time. */
class RhythmGauges implements OnModuleInit {
  constructor(
    @Inject(RHYTHM_CONFIG) private readonly config: RhythmConfig,
    @Inject(LEADER_ELECTION) private readonly leader: LeaderElection,
  ) {}

  onModuleInit(): void {
    // Tests build several apps in one process; the newest app owns the process-wide series.
    register.removeSingleMetric('rhythm_info');
    register.removeSingleMetric('leader');
    register.removeSingleMetric('rhythm_leader_epoch');
    new Gauge({ name: 'rhythm_info', help: 'Rhythm version.', labelNames: ['version'] }).set(
      { version: this.config.version },
      1,
    );
    const leader = this.leader;
    new Gauge({
      name: 'leader',
      help: 'Indicates if instance is elected as leader.',
      collect() {
        this.set(leader.isLeader() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'rhythm_leader_epoch',
      help: 'Fencing epoch of the leadership term this instance holds (0 when it does not lead).',
      collect() {
        this.set(leader.currentTerm()?.epoch ?? 0);
      },
    });
  }
}

@Global()
@Module({
  imports: [
    PrometheusModule.register({
      path: '/api/v1/metrics',
      controller: MetricsController,
      defaultMetrics: { enabled: true },
    }),
  ],
  providers: [RhythmGauges, { provide: SCHEDULER_METRICS, useClass: PrometheusSchedulerMetrics }],
  exports: [SCHEDULER_METRICS],
})
export class MetricsModule {}
