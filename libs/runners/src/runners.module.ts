import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { COMMAND_RUNNER } from '@rhythm/scheduling';
import { LocalProcessRunner } from './local/local-process.runner';

export interface RunnersOptions {
  readonly local: { readonly logDir: string; readonly logMaxAgeMs: number };
}

class LocalRunnerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(LocalProcessRunner) private readonly runner: LocalProcessRunner,
    @Inject('RUNNERS_OPTIONS') private readonly options: RunnersOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Output outlives its task records by no more than their retention.
    await this.runner.pruneLogs(this.options.local.logMaxAgeMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.close();
  }
}

/** The runners that launch runs; the command runner is the local process runner for now. */
@Module({})
export class RunnersModule {
  static forRoot(options: RunnersOptions): DynamicModule {
    return {
      module: RunnersModule,
      global: true,
      providers: [
        { provide: 'RUNNERS_OPTIONS', useValue: options },
        {
          provide: LocalProcessRunner,
          useFactory: () => new LocalProcessRunner({ logDir: options.local.logDir }),
        },
        // The lifecycle holds the local runner itself, so COMMAND_RUNNER can be replaced freely
        // (by tests now, by the Mesos runner when a master is configured).
        { provide: COMMAND_RUNNER, useExisting: LocalProcessRunner },
        LocalRunnerLifecycle,
      ],
      exports: [COMMAND_RUNNER],
    };
  }
}
