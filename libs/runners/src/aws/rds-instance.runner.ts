import { Inject, Injectable } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { AwsActionRunner } from './aws-action.runner';
import { AwsClients } from './aws-clients';
import { AWS_FAILURE, type AwsRun } from './aws-run';
import { AWS_RUNNERS_SETTINGS, type AwsRunnersSettings } from './aws-runners.options';
import { AwsRdsInstanceOptionsDto } from './rds-instance-options.dto';

/** Statuses from which a DB instance will not become available or stopped on its own. */
const HOPELESS: ReadonlySet<string> = new Set([
  'failed',
  'deleting',
  'inaccessible-encryption-credentials',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'insufficient-capacity',
  'restore-error',
  'storage-full',
]);

/**
 * `aws-rds-instance`: StartDBInstance or StopDBInstance, then DescribeDBInstances until the
 * instance is available (start) or stopped (stop).
 */
@RhythmRunner({ kind: 'aws-rds-instance', options: AwsRdsInstanceOptionsDto })
@Injectable()
export class AwsRdsInstanceRunner extends AwsActionRunner<AwsRdsInstanceOptionsDto> {
  constructor(@Inject(AWS_RUNNERS_SETTINGS) settings: AwsRunnersSettings, clients: AwsClients) {
    super(settings, clients);
  }

  protected async act(options: AwsRdsInstanceOptionsDto, aws: AwsRun): Promise<string> {
    const id = options.dbInstanceIdentifier;
    const { client: rds, sdk } = await aws.account.rds();
    const { DescribeDBInstancesCommand, StartDBInstanceCommand, StopDBInstanceCommand } = sdk;
    const input = { DBInstanceIdentifier: id };
    const name = options.action === 'start' ? 'StartDBInstance' : 'StopDBInstance';
    const answer = await aws.call(name, (abortSignal) =>
      options.action === 'start'
        ? rds.send(new StartDBInstanceCommand(input), { abortSignal })
        : rds.send(new StopDBInstanceCommand(input), { abortSignal }),
    );
    aws.log(`${name} ${id} → ${answer.DBInstance?.DBInstanceStatus ?? 'requested'}`);

    const target = options.action === 'start' ? 'available' : 'stopped';
    await aws.waitUntil(`${id} to be ${target}`, async () => {
      const described = await aws.call('DescribeDBInstances', (abortSignal) =>
        rds.send(new DescribeDBInstancesCommand(input), { abortSignal }),
      );
      const status =
        described.DBInstances?.find((db) => db.DBInstanceIdentifier === id)?.DBInstanceStatus ??
        'not listed';
      aws.log(`DescribeDBInstances ${id}: ${status}`);
      if (HOPELESS.has(status)) {
        throw new ActionFailure(
          `${id} is ${status}; it will not become ${target}`,
          AWS_FAILURE.state,
        );
      }
      return { done: status === target, seen: status };
    });
    return `${id} ${target}`;
  }
}
