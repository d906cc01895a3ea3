import { Module, type DynamicModule } from '@nestjs/common';
import {
  MESOS_RUNNER_OPTIONS,
  type MesosRunnerOptions,
} from './infrastructure/runner/mesos-runner.options';
import { MesosClusterInspector } from './infrastructure/operator/mesos-cluster-inspector';
import { MesosRunner } from './infrastructure/runner/mesos-runner';

/**
 * The Mesos runner, for apps configured with a Mesos master. Give `RunnersModule` the class
 * `MesosRunner` as its command runner so jobs without a runner run on Mesos.
 */
@Module({})
export class MesosModule {
  static forRoot(options: MesosRunnerOptions): DynamicModule {
    return {
      module: MesosModule,
      global: true,
      providers: [
        { provide: MESOS_RUNNER_OPTIONS, useValue: options },
        MesosRunner,
        MesosClusterInspector,
      ],
      exports: [MesosRunner, MesosClusterInspector],
    };
  }
}
