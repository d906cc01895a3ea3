import type { Authorizer } from '../application/ports/authorizer.port';
import type { AccessLevel } from '../domain/access-level';

/** The default backend: read-write for everyone, as the original Rhythm. */
export class NoneAuthorizer implements Authorizer {
  readonly backend = 'none';
  readonly scheme = 'none' as const;

  async accessLevel(): Promise<AccessLevel> {
    return 'readwrite';
  }

  async authenticate(): Promise<void> {}
}
