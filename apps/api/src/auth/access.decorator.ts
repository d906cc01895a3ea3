import {
  applyDecorators,
  createParamDecorator,
  SetMetadata,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiResponse, ApiSecurity } from '@nestjs/swagger';
import type { AccessLevel, Credentials } from '@rhythm/authz';
import type { Request } from 'express';
import { ErrorResponseDto } from '../http/error-response.dto';
import { requestCredentials } from './request-credentials';

export const ACCESS_METADATA = 'rhythm:access';

/**
 * What a route needs. `path`: the level on the group/project in its path, checked by AccessGuard
 * before anything runs. `caller`: only that the caller presented credentials; the handler checks
 * the level itself once it knows the project (a create's body, a listing's results).
 * `authenticated`: credentials the backend knows, whatever they give access to (routes about
 * no project, such as the cluster view).
 */
export type AccessRequirement =
  | { readonly on: 'path'; readonly level: AccessLevel }
  | { readonly on: 'caller' }
  | { readonly on: 'authenticated' };

/** Marks a route as protected and documents its 401 and 403 answers and security schemes. */
export function Access(requirement: AccessRequirement): MethodDecorator {
  return applyDecorators(
    SetMetadata(ACCESS_METADATA, requirement),
    ApiSecurity('token'),
    ApiSecurity('basic'),
    ApiResponse({
      status: 401,
      description: 'Missing or invalid credentials',
      type: ErrorResponseDto,
    }),
    ApiResponse({
      status: 403,
      description: 'Not allowed for this group/project',
      type: ErrorResponseDto,
    }),
  );
}

/** The request's credentials, for handlers that check access themselves. */
export const Caller = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Credentials =>
    requestCredentials(context.switchToHttp().getRequest<Request>()),
);
