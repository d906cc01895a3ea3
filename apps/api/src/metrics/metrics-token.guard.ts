import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AuthzError, AuthzErrorCode } from '@rhythm/authz';
import type { Request } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { requestCredentials } from '../auth/request-credentials';
import { RHYTHM_CONFIG, type RhythmConfig } from '../config/rhythm-config';

/** Metrics are open unless RHYTHM_METRICS_TOKEN is set; then the token is required. */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(RHYTHM_CONFIG) config: RhythmConfig) {
    this.expected = config.api.metricsToken ? digest(config.api.metricsToken) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const credentials = requestCredentials(context.switchToHttp().getRequest<Request>());
    if (credentials.kind === 'token' && timingSafeEqual(digest(credentials.token), this.expected)) {
      return true;
    }
    throw new AuthzError(AuthzErrorCode.INVALID_CREDENTIALS, 'Metrics token required');
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
