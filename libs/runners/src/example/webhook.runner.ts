import { Inject, Injectable } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import {
  InProcessActionRunner,
  type ActionContext,
  type InProcessActionRunnerOptions,
} from '../action/in-process-action.runner';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { WebhookOptionsDto } from './webhook-options.dto';

export const WEBHOOK_RUNNER_OPTIONS = Symbol('WEBHOOK_RUNNER_OPTIONS');

export interface WebhookRunnerOptions extends InProcessActionRunnerOptions {
  /** How long one call may take. Default 30 s. */
  readonly requestTimeoutMs?: number;
}

/**
 * `webhook`, the example of a runner written outside Rhythm's core: calls `url` and records the
 * status code. A status other than `expectStatus` (default: any 2xx) fails the run. The log shows
 * the method, the URL without its query and credentials, and the answer; never the headers.
 */
@RhythmRunner({ kind: 'webhook', options: WebhookOptionsDto })
@Injectable()
export class WebhookRunner extends InProcessActionRunner<WebhookOptionsDto> {
  private readonly requestTimeoutMs: number;

  constructor(@Inject(WEBHOOK_RUNNER_OPTIONS) options: WebhookRunnerOptions) {
    super(options);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  protected async perform(options: WebhookOptionsDto, run: ActionContext): Promise<string> {
    const method = options.method ?? 'POST';
    const call = `${method} ${withoutSecrets(options.url)}`;
    run.log(call);
    let status: number;
    try {
      const response = await fetch(options.url, {
        method,
        headers: options.headers ?? {},
        ...(options.body !== null && options.body !== undefined && { body: options.body }),
        signal: AbortSignal.any([run.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      });
      const body = await response.arrayBuffer();
      status = response.status;
      run.log(`${call} → ${status} ${response.statusText} (${body.byteLength} bytes)`);
    } catch (error) {
      if (run.signal.aborted) throw error;
      throw new ActionFailure(`${call} failed: ${causeOf(error)}`, 'HTTP_ERROR');
    }
    const expected =
      options.expectStatus === null || options.expectStatus === undefined
        ? status >= 200 && status < 300
        : status === options.expectStatus;
    if (!expected) {
      throw new ActionFailure(
        `HTTP ${status}, expected ${options.expectStatus ?? '2xx'}`,
        'HTTP_STATUS',
      );
    }
    return `HTTP ${status}`;
  }
}

/** Query strings and user info often carry tokens. */
function withoutSecrets(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
}

/** fetch says "fetch failed"; the reason is in its cause. */
function causeOf(error: unknown): string {
  // Duck-typed: fetch's errors may come from another realm (e.g. under jest).
  const { message, cause } = (error ?? {}) as { message?: unknown; cause?: { message?: unknown } };
  if (typeof cause?.message === 'string') return cause.message;
  return typeof message === 'string' ? message : String(error);
}
