import { Inject, Injectable } from '@nestjs/common';
import { atLeast, type AccessLevel, type ProjectRef } from '../domain/access-level';
import { AuthzError, AuthzErrorCode } from '../domain/authz.errors';
import type { Credentials } from '../domain/credentials';
import { AUTHORIZER, type Authorizer, type CredentialScheme } from './ports/authorizer.port';

/** A project no job can belong to (names are never empty): asking about it only authenticates. */
const NO_PROJECT: ProjectRef = { group: '', project: '' };

/** Decides what a caller may do, per group/project, through the configured backend. */
@Injectable()
export class AccessService {
  constructor(@Inject(AUTHORIZER) private readonly authorizer: Authorizer) {}

  get scheme(): CredentialScheme {
    return this.authorizer.scheme;
  }

  get backend(): string {
    return this.authorizer.backend;
  }

  /** Throws MISSING_CREDENTIALS when the backend needs credentials and the caller sent none. */
  assertPresented(credentials: Credentials): void {
    if (this.authorizer.scheme !== 'none' && credentials.kind === 'anonymous') {
      throw new AuthzError(AuthzErrorCode.MISSING_CREDENTIALS, 'Credentials required');
    }
  }

  /** Throws unless the caller presented credentials that the backend knows (any access level). */
  async authenticate(credentials: Credentials): Promise<void> {
    this.assertPresented(credentials);
    if (this.authorizer.scheme !== 'none') await this.authorizer.authenticate(credentials);
  }

  /** Throws FORBIDDEN (or an authentication error) unless the caller has `required` on `ref`. */
  async require(credentials: Credentials, ref: ProjectRef, required: AccessLevel): Promise<void> {
    this.assertPresented(credentials);
    const level = await this.authorizer.accessLevel(credentials, ref);
    if (!atLeast(level, required)) throw new AuthzError(AuthzErrorCode.FORBIDDEN, 'Forbidden');
  }

  /** The items whose group/project the caller may read; asks once per distinct project. */
  async readable<T>(
    credentials: Credentials,
    items: readonly T[],
    refOf: (item: T) => ProjectRef,
  ): Promise<T[]> {
    this.assertPresented(credentials);
    if (this.authorizer.scheme === 'none') return [...items];
    // Credentials are checked even when there is nothing to filter (the original skipped them).
    if (items.length === 0) await this.authorizer.accessLevel(credentials, NO_PROJECT);
    const levels = new Map<string, Promise<AccessLevel>>();
    const levelOf = (ref: ProjectRef) => {
      const key = `${ref.group}/${ref.project}`;
      let level = levels.get(key);
      if (!level) {
        level = this.authorizer.accessLevel(credentials, ref);
        levels.set(key, level);
      }
      return level;
    };
    const allowed = await Promise.all(
      items.map(async (item) => atLeast(await levelOf(refOf(item)), 'readonly')),
    );
    return items.filter((_, index) => allowed[index]);
  }
}
