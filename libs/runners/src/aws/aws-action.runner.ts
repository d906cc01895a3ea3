import { InProcessActionRunner, type ActionContext } from '../action/in-process-action.runner';
import type { AwsActionOptionsDto } from './aws-action-options.dto';
import type { AwsClients } from './aws-clients';
import { AwsRun } from './aws-run';
import type { AwsRunnersSettings } from './aws-runners.options';

/**
 * An AWS runner: picks the job's account, then acts and waits through an AwsRun that knows the
 * run's deadline (`timeoutSeconds`, else the server's default), the poll interval and the retries.
 */
export abstract class AwsActionRunner<
  TOptions extends AwsActionOptionsDto,
> extends InProcessActionRunner<TOptions> {
  constructor(
    private readonly settings: AwsRunnersSettings,
    private readonly clients: AwsClients,
  ) {
    super({
      logDir: settings.logDir,
      ...(settings.logMaxAgeMs !== undefined && { logMaxAgeMs: settings.logMaxAgeMs }),
      ...(settings.killGraceMs !== undefined && { killGraceMs: settings.killGraceMs }),
    });
  }

  /** Calls AWS and waits for the target state; resolves with the Finished message. */
  protected abstract act(options: TOptions, aws: AwsRun): Promise<string>;

  protected override async perform(options: TOptions, context: ActionContext): Promise<string> {
    const account = this.clients.account(options.account);
    context.log(`using ${account.describe()}`);
    const timeoutSeconds = options.timeoutSeconds ?? this.settings.defaultTimeoutSeconds;
    return this.act(options, new AwsRun(context, account, this.settings, timeoutSeconds));
  }
}
