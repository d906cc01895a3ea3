import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
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
