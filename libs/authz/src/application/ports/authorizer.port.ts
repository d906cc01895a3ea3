import type { AccessLevel, ProjectRef } from '../../domain/access-level';
import type { Credentials } from '../../domain/credentials';

export const AUTHORIZER = Symbol('AUTHORIZER');

/** How a backend wants credentials: drives 401 answers and the Swagger security schemes. */
export type CredentialScheme = 'none' | 'token' | 'basic';

/**
 * Decides a caller's access to one group/project. Backends: none, GitLab (X-Token), LDAP (Basic)
 * and static tokens. Throws AuthzError MISSING_CREDENTIALS or INVALID_CREDENTIALS when the caller
 * is not authenticated, BACKEND_UNAVAILABLE when the backend cannot answer; `none` is a valid
 * answer (authenticated, no access).
 */
export interface Authorizer {
  readonly backend: string;
  readonly scheme: CredentialScheme;
  accessLevel(credentials: Credentials, ref: ProjectRef): Promise<AccessLevel>;
  /**
   * Checks that the credentials belong to someone the backend knows, whatever they give access
   * to; throws as `accessLevel` does. (GitLab's `accessLevel` answers `none` for a token it does not
   * know, as the original did, so it cannot tell a stranger from a user without access.)
   */
  authenticate(credentials: Credentials): Promise<void>;
  /** Releases connections; optional. */
  close?(): Promise<void>;
}
