import { createHash } from 'node:crypto';
import type { Task } from '@aws-sdk/client-ecs';
import { Inject, Injectable } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { AwsActionRunner } from './aws-action.runner';
import { AwsClients } from './aws-clients';
import { AWS_FAILURE, type AwsRun } from './aws-run';
import { AWS_RUNNERS_SETTINGS, type AwsRunnersSettings } from './aws-runners.options';
import { AwsEcsTaskOptionsDto } from './ecs-task-options.dto';

/**
 * `aws-ecs-task`: RunTask, then DescribeTasks until every task has started (RUNNING, or already
 * stopped after it started). A task stopping before it started fails the run with its reason.
 * The run does not wait for the tasks to end, and a kill does not stop them.
 */
@RhythmRunner({ kind: 'aws-ecs-task', options: AwsEcsTaskOptionsDto })
@Injectable()
export class AwsEcsTaskRunner extends AwsActionRunner<AwsEcsTaskOptionsDto> {
  constructor(@Inject(AWS_RUNNERS_SETTINGS) settings: AwsRunnersSettings, clients: AwsClients) {
    super(settings, clients);
  }

  protected async act(options: AwsEcsTaskOptionsDto, aws: AwsRun): Promise<string> {
    const { cluster, taskDefinition } = options;
    const count = options.count ?? 1;
    const { client: ecs, sdk } = await aws.account.ecs();
    const { DescribeTasksCommand, RunTaskCommand } = sdk;
    const answer = await aws.call('RunTask', (abortSignal) =>
      ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition,
          count,
          ...(options.launchType && { launchType: options.launchType }),
          ...(options.networkConfiguration && {
            networkConfiguration: options.networkConfiguration,
          }),
          startedBy: 'rhythm',
          // The same run retried (by this runner or after a restart) starts its tasks only once.
          clientToken: createHash('sha256').update(aws.taskId).digest('hex'),
        }),
        { abortSignal },
      ),
    );
    const started = answer.tasks ?? [];
    const arns = started.flatMap((task) => (task.taskArn ? [task.taskArn] : []));
    const how = `${count} × ${options.launchType ?? 'default capacity'}`;
    aws.log(
      `RunTask ${taskDefinition} on ${cluster} (${how}) → ` +
        (started.length > 0 ? started.map(describeTask).join(', ') : 'no task'),
    );
    const failures = answer.failures ?? [];
    if (failures.length > 0 || arns.length < count) {
      const reasons = failures.map((failure) => failure.reason ?? 'unknown').join(', ');
      throw new ActionFailure(
        `RunTask started ${arns.length} of ${count} tasks${reasons ? `: ${reasons}` : ''}`,
        AWS_FAILURE.error,
      );
    }

    await aws.waitUntil(`${plural(count, 'task')} to start`, async () => {
      const described = await aws.call('DescribeTasks', (abortSignal) =>
        ecs.send(new DescribeTasksCommand({ cluster, tasks: arns }), { abortSignal }),
      );
      const tasks = described.tasks ?? [];
      const seen = tasks.map(describeTask).join(', ') || 'no task';
      aws.log(`DescribeTasks ${seen}`);
      const missing = described.failures?.[0];
      if (missing) {
        throw new ActionFailure(
          `DescribeTasks ${missing.arn ?? ''}: ${missing.reason ?? 'MISSING'}`,
          AWS_FAILURE.error,
        );
      }
      const failed = tasks.find((task) => task.lastStatus === 'STOPPED' && !task.startedAt);
      if (failed) {
        throw new ActionFailure(
          `task ${shortId(failed.taskArn)} stopped before it started: ` +
            `${failed.stopCode ?? 'no stop code'}: ${failed.stoppedReason ?? 'no reason given'}`,
          AWS_FAILURE.state,
        );
      }
      const done =
        tasks.length === arns.length &&
        tasks.every((task) => task.lastStatus === 'RUNNING' || task.startedAt !== undefined);
      return { done, seen };
    });
    return `${plural(count, 'task')} started: ${arns.map(shortId).join(', ')}`;
  }
}

function describeTask(task: Task): string {
  return `${shortId(task.taskArn)}: ${task.lastStatus ?? '?'}`;
}

/** The task id at the end of its ARN. */
function shortId(arn: string | undefined): string {
  return arn === undefined ? '?' : arn.slice(arn.lastIndexOf('/') + 1);
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
