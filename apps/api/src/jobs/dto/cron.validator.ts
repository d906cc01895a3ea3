import { CronExpression, InvalidCronExpressionError } from '@rhythm/scheduling';
import {
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';

/** A five-field cron expression of the original Rhythm dialect that fires at least once. */
export function IsCronExpression(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'isCronExpression',
      target: target.constructor,
      propertyName: String(propertyKey),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && CronExpression.isValid(value),
        defaultMessage: (args?: ValidationArguments) =>
          `Does not match format 'cron' (${cronProblem(args?.value)})`,
      },
    });
}

function cronProblem(value: unknown): string {
  if (typeof value !== 'string') return 'expected a string';
  try {
    CronExpression.parse(value);
    return 'valid';
  } catch (error) {
    return error instanceof InvalidCronExpressionError
      ? error.message.replace(/^.*': /, '')
      : String(error);
  }
}
