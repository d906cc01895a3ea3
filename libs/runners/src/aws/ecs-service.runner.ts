import { Inject, Injectable } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { AwsActionRunner } from './aws-action.runner';
import { AwsClients } from './aws-clients';
import { AWS_FAILURE, type AwsRun } from './aws-run';
import { AWS_RUNNERS_SETTINGS, type AwsRunnersSettings } from './aws-runners.options';
import { AwsEcsServiceOptionsDto } from './ecs-service-options.dto';

/**
 * `aws-ecs-service`: UpdateService with the desired count, then DescribeServices until the service
 * runs exactly that many tasks with none pending.
 */
@RhythmRunner({ kind: 'aws-ecs-service', options: AwsEcsServiceOptionsDto })
@Injectable()
export class AwsEcsServiceRunner extends AwsActionRunner<AwsEcsServiceOptionsDto> {
  constructor(@Inject(AWS_RUNNERS_SETTINGS) settings: AwsRunnersSettings, clients: AwsClients) {
    super(settings, clients);
  }

  protected async act(options: AwsEcsServiceOptionsDto, aws: AwsRun): Promise<string> {
    const { cluster, service, desiredCount } = options;
    const { client: ecs, sdk } = await aws.account.ecs();
    const { DescribeServicesCommand, UpdateServiceCommand } = sdk;
    const name = `${lastSegment(cluster)}/${lastSegment(service)}`;
    const updated = await aws.call('UpdateService', (abortSignal) =>
      ecs.send(new UpdateServiceCommand({ cluster, service, desiredCount }), { abortSignal }),
    );
    aws.log(
      `UpdateService ${name} desiredCount ${desiredCount} → running ` +
        `${updated.service?.runningCount ?? '?'}, pending ${updated.service?.pendingCount ?? '?'}`,
    );

    await aws.waitUntil(`${name} to run ${desiredCount} tasks`, async () => {
      const answer = await aws.call('DescribeServices', (abortSignal) =>
        ecs.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal }),
      );
      const failure = answer.failures?.[0];
      const found = answer.services?.[0];
      if (!found) {
        throw new ActionFailure(
          `DescribeServices ${name}: ${failure?.reason ?? 'MISSING'}${failure?.detail ? ` (${failure.detail})` : ''}`,
          AWS_FAILURE.error,
        );
      }
      const running = found.runningCount ?? 0;
      const pending = found.pendingCount ?? 0;
      const seen = `running ${running}, pending ${pending}, desired ${found.desiredCount ?? '?'}`;
      aws.log(`DescribeServices ${name}: ${seen}`);
      if (found.status !== undefined && found.status !== 'ACTIVE') {
        throw new ActionFailure(`${name} is ${found.status}`, AWS_FAILURE.state);
      }
      const primary = found.deployments?.find((deployment) => deployment.status === 'PRIMARY');
      if (primary?.rolloutState === 'FAILED') {
        throw new ActionFailure(
          `the deployment of ${name} failed: ${primary.rolloutStateReason ?? 'no reason given'}`,
          AWS_FAILURE.state,
        );
      }
      return { done: running === desiredCount && pending === 0, seen };
    });
    return `${name}: ${desiredCount} of ${desiredCount} running`;
  }
}

/** `prod` from `arn:aws:ecs:…:cluster/prod`; names are left as they are. */
function lastSegment(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
}
