import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import type { RunnerOptionsCheck } from '@rhythm/scheduling';

/**
 * Validates a job's runner options against the runner's options class. Keys match the declared
 * property names case-insensitively (the API folds request keys to lower case), unknown keys are
 * refused, and every problem names its field as `runner.<path>`.
 */
export function checkRunnerOptions(
  schema: Type<object> | undefined,
  options: Readonly<Record<string, unknown>>,
): RunnerOptionsCheck {
  if (!schema) {
    const unknown = Object.keys(options);
    return unknown.length === 0
      ? { ok: true, options: {} }
      : {
          ok: false,
          problems: unknown.map((key) => `runner.${key}: is not an option of this runner`),
        };
  }
  const spelled = respell(schema, options);
  const instance = plainToInstance(schema, spelled);
  const errors = validateSync(instance, {
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: false,
    stopAtFirstError: true,
  });
  if (errors.length > 0) return { ok: false, problems: describe(errors, ['runner']) };
  return { ok: true, options: spelled };
}

/** Rewrites top-level keys to the property names the schema declares, whatever their case. */
function respell(
  schema: Type<object>,
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const declared = new Map(
    declaredProperties(schema).map((name) => [name.toLowerCase(), name] as const),
  );
  return Object.fromEntries(
    Object.entries(options).map(([key, value]) => [declared.get(key.toLowerCase()) ?? key, value]),
  );
}

function declaredProperties(schema: Type<object>): string[] {
  // class-validator knows every decorated property, which is every option a schema declares.
  return [
    ...new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(schema, '', true, false)
        .map((rule) => rule.propertyName),
    ),
  ];
}

function describe(errors: readonly ValidationError[], parent: readonly string[]): string[] {
  return errors.flatMap((error) => {
    const path = [...parent, error.property];
    const field = path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
    const own = Object.values(error.constraints ?? {}).map((message) =>
      error.constraints?.whitelistValidation === message
        ? `${field}: is not an option of this runner`
        : `${field}: ${message}`,
    );
    return [...own, ...describe(error.children ?? [], path)];
  });
}
