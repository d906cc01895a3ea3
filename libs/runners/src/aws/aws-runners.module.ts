import { Module, type DynamicModule } from '@nestjs/common';
import { AwsClients } from './aws-clients';
import {
  AWS_RUNNERS_SETTINGS,
  resolveAwsRunnersSettings,
  type AwsRunnersModuleOptions,
} from './aws-runners.options';
import { AwsEc2InstanceRunner } from './ec2-instance.runner';
import { AwsEcsServiceRunner } from './ecs-service.runner';
import { AwsEcsTaskRunner } from './ecs-task.runner';
import { AwsRdsInstanceRunner } from './rds-instance.runner';

export const AWS_RUNNERS = [
  AwsEc2InstanceRunner,
  AwsRdsInstanceRunner,
  AwsEcsServiceRunner,
  AwsEcsTaskRunner,
] as const;

/**
 * The AWS runners: `aws-ec2-instance`, `aws-rds-instance`, `aws-ecs-service` and `aws-ecs-task`.
 * Import it next to `RunnersModule.forRoot(…)`; the registry finds the runners at boot. Invalid
 * options (an account with an externalId but no role, a negative interval…) throw here.
 */
@Module({})
export class AwsRunnersModule {
  static forRoot(options: AwsRunnersModuleOptions): DynamicModule {
    return {
      module: AwsRunnersModule,
      providers: [
        { provide: AWS_RUNNERS_SETTINGS, useValue: resolveAwsRunnersSettings(options) },
        AwsClients,
        ...AWS_RUNNERS,
      ],
      exports: [...AWS_RUNNERS],
    };
  }
}
