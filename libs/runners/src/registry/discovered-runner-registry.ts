import { Inject, Injectable, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import {
  COMMAND_RUNNER,
  type Runner,
  type RunnerOptionsCheck,
  type RunnerRegistry,
} from '@rhythm/scheduling';
import { RhythmRunner } from './rhythm-runner.decorator';
import { checkRunnerOptions } from './runner-options';

interface RegisteredRunner {
  readonly runner: Runner;
  readonly options: Type<object> | undefined;
  /** The provider's name, for messages. */
  readonly name: string;
}

/**
 * The runners marked with @RhythmRunner anywhere in the app, found on first use (which is before
 * the app starts: the OpenAPI document and the scheduler's bootstrap both ask). A second runner of
 * the same kind, or a runner whose class says another kind than its decorator, fails the boot.
 */
@Injectable()
export class DiscoveredRunnerRegistry implements RunnerRegistry {
  private byKind: ReadonlyMap<string, RegisteredRunner> | null = null;

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(COMMAND_RUNNER) private readonly command: Runner,
  ) {}

  commandRunner(): Runner {
    return this.command;
  }

  get(kind: string): Runner | undefined {
    if (kind === this.command.kind) return this.command;
    return this.registered().get(kind)?.runner;
  }

  all(): readonly Runner[] {
    const runners = [...this.registered().values()].map((entry) => entry.runner);
    return runners.includes(this.command) ? runners : [this.command, ...runners];
  }

  validate(kind: string, options: Readonly<Record<string, unknown>>): RunnerOptionsCheck {
    if (!this.get(kind)) {
      const known = this.all()
        .map((runner) => runner.kind)
        .sort();
      return {
        ok: false,
        problems: [`runner.kind: unknown runner "${kind}"; this server has ${known.join(', ')}`],
      };
    }
    return checkRunnerOptions(this.registered().get(kind)?.options, options);
  }

  /** Kinds with their options classes, for the OpenAPI document. */
  optionSchemas(): ReadonlyMap<string, Type<object> | undefined> {
    return new Map([...this.registered()].map(([kind, entry]) => [kind, entry.options]));
  }

  private registered(): ReadonlyMap<string, RegisteredRunner> {
    this.byKind ??= this.discover();
    return this.byKind;
  }

  private discover(): ReadonlyMap<string, RegisteredRunner> {
    const found = new Map<string, RegisteredRunner>();
    for (const wrapper of this.discovery.getProviders({ metadataKey: RhythmRunner.KEY })) {
      const definition = this.discovery.getMetadataByDecorator(RhythmRunner, wrapper);
      if (!definition) continue;
      const name = String(wrapper.name as unknown);
      if (!wrapper.isDependencyTreeStatic()) {
        throw new Error(
          `Runner ${name} must not be request-scoped: runners live as long as the app`,
        );
      }
      const runner = wrapper.instance as Runner | undefined;
      if (!runner || typeof runner.launch !== 'function') {
        throw new Error(`Runner ${name} must be a class provider implementing the Runner port`);
      }
      if (runner.kind !== definition.kind) {
        throw new Error(
          `Runner ${name} declares kind "${definition.kind}" but reports "${runner.kind}"`,
        );
      }
      const taken = found.get(definition.kind);
      if (taken && taken.runner !== runner) {
        throw new Error(
          `Two runners declare the kind "${definition.kind}": ${taken.name} and ${name}; ` +
            'each kind may be registered once',
        );
      }
      found.set(definition.kind, { runner, options: definition.options, name });
    }
    return found;
  }
}
