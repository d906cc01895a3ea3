import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

const DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'Invalid input; every message names the field',
  404: 'Job not found',
  409: 'Job already exists',
  413: 'Request body too large',
  503: 'Job store unavailable',
};

/** Documents the error answers of a route, all in the `{"Errors": [...]}` envelope. */
export function ApiErrors(...statuses: number[]): MethodDecorator {
  return applyDecorators(
    ...[...statuses, 503].map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status], type: ErrorResponseDto }),
    ),
  );
}
