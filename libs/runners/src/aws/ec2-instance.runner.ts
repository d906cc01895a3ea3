import type { InstanceStateChange } from '@aws-sdk/client-ec2';
import { Inject, Injectable } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { AwsActionRunner } from './aws-action.runner';
import { AwsClients } from './aws-clients';
import { AWS_FAILURE, type AwsRun } from './aws-run';
import { AWS_RUNNERS_SETTINGS, type AwsRunnersSettings } from './aws-runners.options';
import { AwsEc2InstanceOptionsDto, type Ec2InstanceAction } from './ec2-instance-options.dto';

const TARGET: Readonly<Record<Ec2InstanceAction, string>> = {
  start: 'running',
  stop: 'stopped',
  reboot: 'running',
};

/** States from which an instance will not reach the action's target on its own. */
const HOPELESS: Readonly<Record<Ec2InstanceAction, ReadonlySet<string>>> = {
  start: new Set(['shutting-down', 'terminated']),
  stop: new Set(['shutting-down', 'terminated']),
  reboot: new Set(['shutting-down', 'terminated', 'stopping', 'stopped']),
};

/**
 * `aws-ec2-instance`: StartInstances, StopInstances or RebootInstances, then DescribeInstances
 * until every instance is running (start, reboot) or stopped (stop).
 */
@RhythmRunner({ kind: 'aws-ec2-instance', options: AwsEc2InstanceOptionsDto })
@Injectable()
export class AwsEc2InstanceRunner extends AwsActionRunner<AwsEc2InstanceOptionsDto> {
  constructor(@Inject(AWS_RUNNERS_SETTINGS) settings: AwsRunnersSettings, clients: AwsClients) {
    super(settings, clients);
  }

  protected async act(options: AwsEc2InstanceOptionsDto, aws: AwsRun): Promise<string> {
    const { action, instanceIds } = options;
    const { client: ec2, sdk } = await aws.account.ec2();
    const {
      DescribeInstancesCommand,
      RebootInstancesCommand,
      StartInstancesCommand,
      StopInstancesCommand,
    } = sdk;
    const input = { InstanceIds: instanceIds };
    switch (action) {
      case 'start': {
        const answer = await aws.call('StartInstances', (abortSignal) =>
          ec2.send(new StartInstancesCommand(input), { abortSignal }),
        );
        logChanges(aws, 'StartInstances', answer.StartingInstances);
        break;
      }
      case 'stop': {
        const answer = await aws.call('StopInstances', (abortSignal) =>
          ec2.send(new StopInstancesCommand(input), { abortSignal }),
        );
        logChanges(aws, 'StopInstances', answer.StoppingInstances);
        break;
      }
      case 'reboot':
        await aws.call('RebootInstances', (abortSignal) =>
          ec2.send(new RebootInstancesCommand(input), { abortSignal }),
        );
        aws.log(`RebootInstances ${instanceIds.join(', ')} → requested`);
        break;
    }

    const target = TARGET[action];
    await aws.waitUntil(`${instanceIds.join(', ')} to be ${target}`, async () => {
      const answer = await aws.call('DescribeInstances', (abortSignal) =>
        ec2.send(new DescribeInstancesCommand(input), { abortSignal }),
      );
      const states = new Map<string, string>();
      for (const reservation of answer.Reservations ?? []) {
        for (const instance of reservation.Instances ?? []) {
          if (instance.InstanceId) states.set(instance.InstanceId, instance.State?.Name ?? '?');
        }
      }
      // Just after an action, an instance may briefly be missing from the answer.
      const seen = instanceIds.map((id) => `${id}: ${states.get(id) ?? 'not listed'}`).join(', ');
      aws.log(`DescribeInstances ${seen}`);
      const stuck = instanceIds.find((id) => HOPELESS[action].has(states.get(id) ?? ''));
      if (stuck !== undefined) {
        throw new ActionFailure(
          `${stuck} is ${states.get(stuck)}; it will not become ${target}`,
          AWS_FAILURE.state,
        );
      }
      return { done: instanceIds.every((id) => states.get(id) === target), seen };
    });
    return instanceIds.length === 1
      ? `${instanceIds[0]} ${target}`
      : `${instanceIds.length} instances ${target}: ${instanceIds.join(', ')}`;
  }
}

function logChanges(
  aws: AwsRun,
  action: string,
  changes: readonly InstanceStateChange[] | undefined,
): void {
  for (const change of changes ?? []) {
    aws.log(
      `${action} ${change.InstanceId} → ${change.CurrentState?.Name} (was ${change.PreviousState?.Name})`,
    );
  }
}
