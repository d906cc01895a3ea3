import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { AuthzError, AuthzErrorCode, type CredentialScheme } from '@rhythm/authz';
import { JobsError, JobsErrorCode } from '@rhythm/jobs';
import type { Request, Response } from 'express';
import { RequestValidationError } from './request-validation.error';
import type { RouteCatalog } from './route-catalog';

interface ErrorAnswer {
  readonly status: number;
  readonly messages: string[];
  readonly headers?: Record<string, string>;
}

/**
 * The one place where errors become HTTP answers, all in the `{"Errors": [...]}` envelope that
 * Rhythm clients parse (the original CLI crashes on anything else). Internals never leak: an
 * unexpected error is logged with its stack and answered with a generic 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  constructor(
    private readonly routes: RouteCatalog,
    private readonly credentialScheme: CredentialScheme,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const answer = this.answer(exception, request);
    if (answer.status >= 500) {
      this.logger.error({
        msg: 'request failed',
        method: request.method,
        path: request.path,
        status: answer.status,
        error: describe(exception),
      });
    }
    if (response.headersSent) return;
    response
      .status(answer.status)
      .set(answer.headers ?? {})
      .json({ Errors: answer.messages });
  }

  private answer(exception: unknown, request: Request): ErrorAnswer {
    if (exception instanceof AuthzError) return this.authzAnswer(exception);
    if (exception instanceof JobsError) {
      return { status: jobsStatus(exception.code), messages: [...exception.details] };
    }
    if (exception instanceof RequestValidationError) {
      return { status: HttpStatus.BAD_REQUEST, messages: exception.problems };
    }
    if (exception instanceof HttpException) return this.httpAnswer(exception, request);
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, messages: ['Internal server error'] };
  }

  private authzAnswer(error: AuthzError): ErrorAnswer {
    switch (error.code) {
      case AuthzErrorCode.MISSING_CREDENTIALS:
      case AuthzErrorCode.INVALID_CREDENTIALS:
        return {
          status: HttpStatus.UNAUTHORIZED,
          messages: [
            error.code === AuthzErrorCode.MISSING_CREDENTIALS
              ? 'Credentials required'
              : 'Invalid credentials',
          ],
          headers: { 'WWW-Authenticate': challenge(this.credentialScheme) },
        };
      case AuthzErrorCode.FORBIDDEN:
        return { status: HttpStatus.FORBIDDEN, messages: ['Forbidden'] };
      case AuthzErrorCode.BACKEND_UNAVAILABLE:
        return {
          status: HttpStatus.SERVICE_UNAVAILABLE,
          messages: ['Authorization backend unavailable'],
        };
    }
  }

  private httpAnswer(exception: HttpException, request: Request): ErrorAnswer {
    const status: number = exception.getStatus();
    if (status === (HttpStatus.NOT_FOUND as number)) {
      const allowed = this.routes.methodsFor(request.path);
      // A route that serves this method answered 404 itself (e.g. no Mesos master configured).
      if (allowed.includes(request.method)) {
        return { status, messages: [exception.message || 'Not found'] };
      }
      if (allowed.length > 0) {
        return {
          status: HttpStatus.METHOD_NOT_ALLOWED,
          messages: [`Method ${request.method} not allowed; use ${allowed.join(', ')}`],
          headers: { Allow: allowed.join(', ') },
        };
      }
      return { status, messages: ['Not found'] };
    }
    return { status, messages: [exception.message || HttpStatus[status]] };
  }
}

/** Basic for LDAP; for tokens, a scheme naming the header to send. */
function challenge(scheme: CredentialScheme): string {
  return scheme === 'basic'
    ? 'Basic realm="Rhythm", charset="UTF-8"'
    : 'Token realm="Rhythm", header="X-Token"';
}

function jobsStatus(code: JobsErrorCode): number {
  switch (code) {
    case JobsErrorCode.JOB_NOT_FOUND:
    case JobsErrorCode.TASK_NOT_FOUND:
      return HttpStatus.NOT_FOUND;
    case JobsErrorCode.JOB_PAUSED:
    case JobsErrorCode.TASK_NOT_RUNNING:
      return HttpStatus.CONFLICT;
    case JobsErrorCode.JOB_ALREADY_EXISTS:
      return HttpStatus.CONFLICT;
    case JobsErrorCode.INVALID_JOB:
      return HttpStatus.BAD_REQUEST;
    case JobsErrorCode.STORE_UNAVAILABLE:
    case JobsErrorCode.STALE_FENCE:
      return HttpStatus.SERVICE_UNAVAILABLE;
  }
}

function describe(exception: unknown): Record<string, unknown> {
  if (!(exception instanceof Error)) return { value: String(exception) };
  const cause = exception.cause instanceof Error ? exception.cause.message : undefined;
  return { name: exception.name, message: exception.message, cause, stack: exception.stack };
}
