import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JOB_NAME_PATTERN } from '@rhythm/jobs';
import {
  IsArray,
  IsBoolean,
  IsDefined,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  registerDecorator,
} from 'class-validator';

/**
 * Field rules shared by the create and update payloads, composed once. `required: false` makes a
 * field optional, where null means "unchanged" (update) or "default" (create).
 */
interface FieldOptions {
  readonly required: boolean;
  /** Required only in some payloads (a @ValidateIf decides): documented as optional. */
  readonly conditionally?: boolean;
}

const presence = ({ required }: FieldOptions) =>
  required ? IsDefined({ message: 'Is required' }) : IsOptional();

export const JobName = () =>
  applyDecorators(
    IsDefined({ message: 'Is required' }),
    IsString({ message: 'Must be a string' }),
    Matches(JOB_NAME_PATTERN, { message: `Does not match pattern '${JOB_NAME_PATTERN.source}'` }),
    ApiProperty({ type: 'string', pattern: JOB_NAME_PATTERN.source }),
  );

export const PositiveNumber = (options: FieldOptions) =>
  applyDecorators(
    presence(options),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'Must be a number' }),
    IsGreaterThan(0),
    ApiProperty({
      exclusiveMinimum: true,
      minimum: 0,
      type: 'number',
      required: options.required && !options.conditionally,
    }),
  );

export const NonNegativeNumber = (options: FieldOptions) =>
  applyDecorators(
    presence(options),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'Must be a number' }),
    Min(0, { message: 'Must be greater than or equal to 0' }),
    ApiProperty({ type: 'number', minimum: 0, required: options.required }),
  );

export const NonNegativeInteger = (options: FieldOptions) =>
  applyDecorators(
    presence(options),
    IsInt({ message: 'Must be an integer' }),
    Min(0, { message: 'Must be greater than or equal to 0' }),
    ApiProperty({ type: 'integer', minimum: 0, required: options.required }),
  );

export const OptionalString = () =>
  applyDecorators(IsOptional(), IsString({ message: 'Must be a string' }));

export const OptionalBoolean = () =>
  applyDecorators(IsOptional(), IsBoolean({ message: 'Must be a boolean' }));

export const OptionalStringList = () =>
  applyDecorators(
    IsOptional(),
    IsArray({ message: 'Must be an array of strings' }),
    IsString({ each: true, message: 'Must be an array of strings' }),
  );

/** A JSON object of string values; its keys are data and keep their case. */
export const OptionalStringMap = () =>
  applyDecorators(
    IsOptional(),
    IsObject({ message: 'Must be an object of strings' }),
    IsStringValues(),
    ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } }),
  );

function IsStringValues(): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'isStringValues',
      target: target.constructor,
      propertyName: String(propertyKey),
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          Object.values(value).every((v) => typeof v === 'string'),
        defaultMessage: () => 'Must be an object of strings',
      },
    });
}

function IsGreaterThan(bound: number): PropertyDecorator {
  return (target, propertyKey) =>
    registerDecorator({
      name: 'isGreaterThan',
      target: target.constructor,
      propertyName: String(propertyKey),
      constraints: [bound],
      validator: {
        validate: (value: unknown) => typeof value === 'number' && value > bound,
        defaultMessage: () => `Must be greater than ${bound}`,
      },
    });
}
