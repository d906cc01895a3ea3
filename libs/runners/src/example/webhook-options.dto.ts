import { ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type WebhookMethod = (typeof WEBHOOK_METHODS)[number];

/** An object whose values are all strings (HTTP header values). */
function IsStringMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.values(value).every((each) => typeof each === 'string'),
      },
    },
    options,
  );
}

/** `webhook`: calls a URL and records the status code of the answer. */
export class WebhookOptionsDto {
  /** http or https. @example "https://hooks.example.com/nightly" */
  @IsDefined({ message: 'is required' })
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'must be an http(s) URL' },
  )
  url!: string;

  /** Default: POST. */
  @IsOptional()
  @IsIn(WEBHOOK_METHODS, { message: 'must be one of GET, POST, PUT, PATCH, DELETE' })
  @ApiPropertyOptional({ enum: WEBHOOK_METHODS, enumName: 'WebhookMethod', default: 'POST' })
  method?: WebhookMethod | null;

  /** Request headers; names keep their case. @example {"Content-Type": "application/json"} */
  @IsOptional()
  @IsStringMap({ message: 'must be an object of header names to string values' })
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  headers?: Record<string, string> | null;

  /** Sent as it is; not with GET. @example "{\"job\": \"nightly\"}" */
  @IsOptional()
  @IsString({ message: 'must be a string' })
  body?: string | null;

  /** The status the answer must have. Default: any 2xx. @example 204 */
  @IsOptional()
  @IsInt({ message: 'must be an integer' })
  @Min(100, { message: 'must be an HTTP status (100-599)' })
  @Max(599, { message: 'must be an HTTP status (100-599)' })
  @ApiPropertyOptional({ type: 'integer' })
  expectStatus?: number | null;
}
