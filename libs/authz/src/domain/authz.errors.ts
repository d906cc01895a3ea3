export enum AuthzErrorCode {
  /** No credentials, or not the kind the backend takes. */
  MISSING_CREDENTIALS = 'MISSING_CREDENTIALS',
  /** Credentials the backend rejects (unknown token, wrong password, empty password). */
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  /** Authenticated, but the level is below what the operation needs. */
  FORBIDDEN = 'FORBIDDEN',
  /** GitLab or LDAP cannot be reached or answered unexpectedly. */
  BACKEND_UNAVAILABLE = 'BACKEND_UNAVAILABLE',
}

/** Errors of authorization; the HTTP filter maps them to 401, 403 and 503. */
export class AuthzError extends Error {
  constructor(
    readonly code: AuthzErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthzError';
  }
}
