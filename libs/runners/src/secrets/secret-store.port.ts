import { isValidJobName, type JobId } from '@rhythm/jobs';

/** Injection token of the configured SecretStore. */
export const SECRET_STORE = Symbol('SECRET_STORE');

/**
 * Where the values of jobs' secrets come from. A job names a secret by a path relative to its own
 * group and project (`db/password`), so a job can only reach its project's secrets.
 */
export interface SecretStore {
  /** The value of one secret of the job's project; rejects with a SecretReadError. */
  read(jobId: JobId, path: string): Promise<string>;
}

/**
 * A secret that could not be read. The message is what the failed run's record shows, so it
 * names the path (and, from resolveJobSecrets, the environment variable) and why, and never holds
 * a secret value or a credential of the backend.
 */
export class SecretReadError extends Error {
  constructor(
    /** The job's secret path, e.g. `db/password`. */
    readonly path: string,
    /** Why, without the path: `secret not found`, `permission denied`… */
    readonly reason: string,
    /** The environment variable the secret was meant for, when known. */
    readonly envName?: string,
    /** Where the backend looked (a Vault path, a variable or file name), for operators. */
    readonly location?: string,
  ) {
    const target = envName === undefined ? '' : ` for ${envName}`;
    const where = location === undefined ? '' : ` (${location})`;
    super(`Reading secret failed${target}: ${reason}: ${path === '' ? "''" : path}${where}`);
    this.name = 'SecretReadError';
  }

  /** The same failure, attributed to the environment variable it was read for. */
  forEnv(envName: string): SecretReadError {
    return new SecretReadError(this.path, this.reason, envName, this.location);
  }
}

/**
 * The segments of a secret path, or a SecretReadError when the path could leave the job's
 * project: a backend joins the path under `<group>/<project>/`, and URL and file path resolution
 * would both honour `..`. Empty and `.` segments are refused too, so one secret has one spelling.
 */
export function secretPathSegments(path: string, jobId: JobId): string[] {
  // Names are checked when a job is saved; checked again because they become path segments here.
  if (!isValidJobName(jobId.group) || !isValidJobName(jobId.project)) {
    throw new SecretReadError(path, 'the job group or project is not a valid name');
  }
  if (path === '') throw new SecretReadError(path, 'secret path is empty');
  if (path.startsWith('/')) throw new SecretReadError(path, 'secret path must be relative');
  if (/[\\\0]/.test(path)) {
    throw new SecretReadError(path, 'secret path must not contain a backslash or a NUL character');
  }
  const segments = path.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new SecretReadError(path, "secret path must not have empty, '.' or '..' segments");
  }
  return segments;
}
