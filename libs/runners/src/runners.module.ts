import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { COMMAND_RUNNER, RUNNER_REGISTRY, type Runner } from '@rhythm/scheduling';
import { LOCAL_RUNNER_OPTIONS, LocalProcessRunner } from './local/local-process.runner';
import { DiscoveredRunnerRegistry } from './registry/discovered-runner-registry';

export interface RunnersOptions {
  readonly local: { readonly logDir: string; readonly logMaxAgeMs: number };
  /**
   * The class of the runner that runs jobs naming no runner; it must be provided by an imported
   * module (e.g. the Mesos runner). Default: the local process runner.
   */
  readonly commandRunner?: Type<Runner>;
}

const RUNNERS_OPTIONS = Symbol('RUNNERS_OPTIONS');

class LocalRunnerLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(LocalProcessRunner) private readonly runner: LocalProcessRunner,
    @Inject(RUNNERS_OPTIONS) private readonly options: RunnersOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Output outlives its task records by no more than their retention.
    await this.runner.pruneLogs(this.options.local.logMaxAgeMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner.close();
  }
}

/**
 * The runners registry and the built-in local process runner. Further runners are any providers
 * marked @RhythmRunner in modules the app imports (the Mesos runner, AWS runners, a platform
 * team's own); the registry finds them at boot.
 */
@Module({})
export class RunnersModule {
  static forRoot(options: RunnersOptions): DynamicModule {
    return {
      module: RunnersModule,
      global: true,
      imports: [DiscoveryModule],
      providers: [
        { provide: RUNNERS_OPTIONS, useValue: options },
        { provide: LOCAL_RUNNER_OPTIONS, useValue: { logDir: options.local.logDir } },
        LocalProcessRunner,
        // The lifecycle holds the local runner itself, so COMMAND_RUNNER can be replaced freely.
        { provide: COMMAND_RUNNER, useExisting: options.commandRunner ?? LocalProcessRunner },
        DiscoveredRunnerRegistry,
        { provide: RUNNER_REGISTRY, useExisting: DiscoveredRunnerRegistry },
        LocalRunnerLifecycle,
      ],
      exports: [COMMAND_RUNNER, RUNNER_REGISTRY, DiscoveredRunnerRegistry],
    };
  }
}
