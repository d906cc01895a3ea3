import { ANONYMOUS, type Credentials } from '@rhythm/authz';
import type { Request } from 'express';

/**
 * The credentials a request presents: `X-Token` (GitLab personal access token or a static token),
 * `Authorization: Bearer <token>`, or `Authorization: Basic` (LDAP). Malformed Basic values count as
 * none, so they get the same 401 as a request without credentials.
 */
export function requestCredentials(request: Request): Credentials {
  const token = request.headers['x-token'];
  if (typeof token === 'string' && token !== '') return { kind: 'token', token };
  const authorization = request.headers.authorization ?? '';
  const [scheme, value = ''] = authorization.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && value !== '') return { kind: 'token', token: value };
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      return {
        kind: 'basic',
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
      };
    }
  }
  return ANONYMOUS;
}
