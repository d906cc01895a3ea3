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
  /** Releases connections; optional. */
  close?(): Promise<void>;
}
