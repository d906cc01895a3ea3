import { Module, type DynamicModule } from '@nestjs/common';
import { WEBHOOK_RUNNER_OPTIONS, WebhookRunner, type WebhookRunnerOptions } from './webhook.runner';

/** Adds the `webhook` runner: `imports: [WebhookRunnerModule.forRoot({ logDir })]`. */
@Module({})
export class WebhookRunnerModule {
  static forRoot(options: WebhookRunnerOptions): DynamicModule {
    return {
      module: WebhookRunnerModule,
      providers: [{ provide: WEBHOOK_RUNNER_OPTIONS, useValue: options }, WebhookRunner],
      exports: [WebhookRunner],
    };
  }
}
