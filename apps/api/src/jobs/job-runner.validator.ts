import { Inject, Injectable } from '@nestjs/common';
import type { JobRunner } from '@rhythm/jobs';
import { RUNNER_REGISTRY, type RunnerRegistry } from '@rhythm/scheduling';
import { RequestValidationError } from '../http/request-validation.error';

/**
 * Turns a request's `runner` object into the job's runner: the kind must be one this server has,
 * and the options must pass the schema that runner declares. Problems are 400s naming each field.
 */
@Injectable()
export class JobRunnerValidator {
  constructor(@Inject(RUNNER_REGISTRY) private readonly runners: RunnerRegistry) {}

  toJobRunner(runner: Readonly<Record<string, unknown>> | null | undefined): JobRunner | undefined {
    if (runner === undefined || runner === null) return undefined;
    const kindKey = Object.keys(runner).find((key) => key.toLowerCase() === 'kind');
    const kind = kindKey === undefined ? undefined : runner[kindKey];
    if (typeof kind !== 'string' || kind === '') {
      throw new RequestValidationError(['Runner.Kind: Is required and must be a runner name']);
    }
    const options = Object.fromEntries(Object.entries(runner).filter(([key]) => key !== kindKey));
    const check = this.runners.validate(kind, options);
    if (!check.ok) {
      throw new RequestValidationError(
        check.problems.map((problem) =>
          problem.replace(/^runner\.kind\b/, 'Runner.Kind').replace(/^runner\./, 'Runner.'),
        ),
      );
    }
    return { kind, options: check.options };
  }
}
