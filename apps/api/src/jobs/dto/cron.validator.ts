import { CronExpression, InvalidCronExpressionError, isValidTimezone } from '@rhythm/jobs';
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

/** An IANA time zone name the runtime knows, such as `Europe/Warsaw`. */
export function IsTimezone(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'isTimezone',
      target: target.constructor,
      propertyName: String(propertyKey),
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isValidTimezone(value),
        defaultMessage: () => 'Must be an IANA time zone name, such as Europe/Warsaw',
      },
    });
}
