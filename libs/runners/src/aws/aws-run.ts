import { ActionFailure } from '../action/action-failure';
import type { ActionContext } from '../action/in-process-action.runner';
import type { AccountClients } from './aws-clients';
import { describeAwsError } from './aws-errors';
import type { AwsRunnersSettings } from './aws-runners.options';

/** One check of a resource while waiting: whether it reached the target, and what was seen. */
export interface WaitCheck {
  readonly done: boolean;
  /** For the timeout message, e.g. `i-0abc: pending`. */
  readonly seen: string;
}

/** Reasons of the Failed updates of AWS runs. */
export const AWS_FAILURE = {
  /** An AWS call failed (access denied, not found, invalid state, retries exhausted…). */
  error: 'AWS_ERROR',
  /** The resource reached a state from which it will not reach the target. */
  state: 'AWS_STATE',
  /** The target state was not reached within the run's timeout. */
  timeout: 'AWS_TIMEOUT',
} as const;

/**
 * One AWS run in progress: its account's clients, calls that retry what is worth retrying, and
 * waiting for a target state within the run's deadline (counted from the start of the run).
 */
export class AwsRun {
  private readonly deadline: number;

  constructor(
    private readonly context: ActionContext,
    readonly account: AccountClients,
    private readonly settings: AwsRunnersSettings,
    private readonly timeoutSeconds: number,
  ) {
    this.deadline = Date.now() + timeoutSeconds * 1000;
  }

  get taskId(): string {
    return this.context.run.taskId;
  }

  log(line: string): void {
    this.context.log(line);
  }

  /**
   * Sends one request (`send` gets the signal to pass as `abortSignal`). Throttling, 5xx and network
   * failures are retried with exponential backoff and jitter, up to `retry.maxAttempts`; any other
   * error fails the run with its AWS code in the message, e.g.
   * `StopInstances failed: UnauthorizedOperation: You are not authorized…`.
   */
  async call<T>(action: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const { maxAttempts } = this.settings.retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send(this.context.signal);
      } catch (error) {
        if (this.context.signal.aborted) throw error;
        const failure = describeAwsError(error);
        const status = failure.status === undefined ? '' : ` (HTTP ${failure.status})`;
        if (!failure.retryable || attempt >= maxAttempts) {
          const after = attempt > 1 ? ` after ${attempt} attempts` : '';
          const code = failure.status === undefined ? '' : `${failure.code}: `;
          throw new ActionFailure(
            `${action} failed${after}: ${code}${failure.message}`,
            AWS_FAILURE.error,
          );
        }
        const delay = this.backoff(attempt);
        this.log(
          `${action}: ${failure.code}${status}; retrying in ${delay} ms ` +
            `(attempt ${attempt + 1} of ${maxAttempts})`,
        );
        await this.context.sleep(delay);
      }
    }
  }

  /**
   * Checks right away, then every `pollIntervalMs`, until `check` says done; fails the run when
   * the deadline passes first. `check` may throw an ActionFailure to give up early.
   */
  async waitUntil(target: string, check: () => Promise<WaitCheck>): Promise<void> {
    for (;;) {
      const { done, seen } = await check();
      if (done) return;
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) {
        throw new ActionFailure(
          `timed out after ${this.timeoutSeconds} s waiting for ${target} (last seen: ${seen})`,
          AWS_FAILURE.timeout,
        );
      }
      await this.context.sleep(Math.min(this.settings.pollIntervalMs, remaining));
    }
  }

  /** base × 2^(attempt−1), capped; then between half and all of it, so that callers spread out. */
  private backoff(attempt: number): number {
    const { baseDelayMs, maxDelayMs } = this.settings.retry;
    const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }
}
