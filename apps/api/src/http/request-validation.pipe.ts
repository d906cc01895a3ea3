import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, type ValidationError } from 'class-validator';
import { displayFieldPath, foldRequestKeys } from './field-names';
import { RequestValidationError } from './request-validation.error';

/**
 * Turns request bodies (raw bytes, see RawBodyMiddleware) and path parameters into validated DTOs.
 * Bodies need no Content-Type (the original CLI sends none) and their keys match case-insensitively.
 */
@Injectable()
export class RequestValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const { metatype } = metadata;
    if (metadata.type === 'body') value = foldRequestKeys(decodeJsonBody(value));
    if (!metatype || !isDtoClass(metatype)) return value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RequestValidationError(['JSON decoding failed: the body must be a JSON object']);
    }
    if (metadata.type === 'param' && passesPatternCheck(metatype, value)) {
      return Object.assign(new metatype(), value);
    }
    const dto: object = plainToInstance(metatype, value);
    const errors = validateSync(dto, {
      whitelist: true,
      stopAtFirstError: true,
      forbidUnknownValues: false,
    });
    if (errors.length > 0) throw new RequestValidationError(flatten(errors, []));
    return dto;
  }
}

function decodeJsonBody(raw: unknown): unknown {
  if (!Buffer.isBuffer(raw)) return raw;
  const text = raw.toString('utf8');
  if (text.trim() === '') {
    throw new RequestValidationError(['JSON decoding failed: the body is empty']);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RequestValidationError([`JSON decoding failed: ${(error as Error).message}`]);
  }
}

const PRIMITIVES: readonly unknown[] = [String, Boolean, Number, Array, Object, Buffer];

function isDtoClass(metatype: unknown): metatype is new () => object {
  return typeof metatype === 'function' && !PRIMITIVES.includes(metatype);
}

function flatten(errors: readonly ValidationError[], parent: readonly string[]): string[] {
  return errors.flatMap((error) => {
    const path = [...parent, error.property];
    const own = Object.values(error.constraints ?? {}).map(
      (message) => `${displayFieldPath(path)}: ${message}`,
    );
    return [...own, ...flatten(error.children ?? [], path)];
  });
}

/**
 * Path parameter DTOs are strings checked against patterns; the full class-validator run costs
 * about 35 µs a request, so a DTO made only of such rules gets a direct check first. Anything it
 * does not pass goes through class-validator, which produces the error messages.
 */
type DtoClass = new () => object;
type PatternCheck = ReadonlyArray<readonly [property: string, pattern: RegExp]>;
const PATTERN_CHECKS = new Map<DtoClass, PatternCheck | null>();

function passesPatternCheck(metatype: DtoClass, value: object): boolean {
  let check = PATTERN_CHECKS.get(metatype);
  if (check === undefined) {
    check = patternCheckOf(metatype);
    PATTERN_CHECKS.set(metatype, check);
  }
  if (!check) return false;
  const record = value as Record<string, unknown>;
  return check.every(([property, pattern]) => {
    const field = record[property];
    return typeof field === 'string' && pattern.test(field);
  });
}

function patternCheckOf(metatype: DtoClass): PatternCheck | null {
  const rules = getMetadataStorage().getTargetValidationMetadatas(metatype, '', true, false);
  const patterns = new Map<string, RegExp>();
  for (const rule of rules) {
    if (rule.name === 'matches') {
      const [pattern] = rule.constraints as [RegExp];
      patterns.set(rule.propertyName, pattern);
    } else if (rule.name !== 'isDefined' && rule.name !== 'isString') {
      return null;
    }
  }
  const properties = new Set(rules.map((rule) => rule.propertyName));
  if ([...properties].some((property) => !patterns.has(property))) return null;
  return [...patterns];
}
