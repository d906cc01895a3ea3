import { open, stat, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { JobId } from '@rhythm/jobs';
import { SecretReadError, secretPathSegments, type SecretStore } from './secret-store.port';

export interface EnvironmentSecretStoreOptions {
  /** Directory of secret files, `<dir>/<group>/<project>/<path>` (Docker or Kubernetes secrets). */
  readonly dir?: string;
  /** The variables to read; the process environment by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A secret file is a password or a key, not a data set. */
const MAX_FILE_BYTES = 1024 * 1024;

/**
 * Secrets from the Rhythm process's own environment and, when a directory is configured, files.
 *
 * Secret `db/password` of job group `payments`, project `billing-api`:
 * 1. with a directory, the file `<dir>/payments/billing-api/db/password`, one trailing newline
 *    removed (files written with `echo` have one);
 * 2. otherwise, or when that file does not exist, the variable
 *    `RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_PASSWORD`: group, project and path each upper-cased
 *    with every run of other characters than letters and digits turned into one `_` (trimmed at
 *    the ends), joined by `__`. The double separator keeps `team/app` path `prod/key` and
 *    `team/app-prod` path `key` apart, so a job cannot reach another project's variable.
 *
 * Nothing is cached: a changed file or variable applies to the next launch.
 */
export class EnvironmentSecretStore implements SecretStore {
  private readonly dir: string | undefined;
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(options: EnvironmentSecretStoreOptions = {}) {
    this.dir = options.dir === undefined || options.dir === '' ? undefined : resolve(options.dir);
    this.env = options.env ?? process.env;
  }

  async read(jobId: JobId, path: string): Promise<string> {
    const segments = secretPathSegments(path, jobId);
    const looked: string[] = [];
    if (this.dir !== undefined) {
      const projectDir = join(this.dir, jobId.group, jobId.project);
      const file = join(projectDir, ...segments);
      // The path rules already keep the file inside; this guards against a rule being loosened.
      if (!file.startsWith(projectDir + sep)) {
        throw new SecretReadError(path, "secret path leaves the job's project");
      }
      const content = await readSecretFile(file, path);
      if (content !== undefined) return content;
      looked.push(file);
    }
    const name = secretVariableName(jobId, path);
    if (name !== undefined) {
      const value = this.env[name];
      if (value !== undefined) return value;
      looked.push(`$${name}`);
    }
    if (looked.length === 0) {
      throw new SecretReadError(path, 'secret path has no letter or digit to name a variable by');
    }
    throw new SecretReadError(path, 'secret not found', undefined, looked.join(' or '));
  }
}

/** The file's content, or undefined when there is no such file. */
async function readSecretFile(file: string, path: string): Promise<string | undefined> {
  const fail = (reason: string) => new SecretReadError(path, reason, undefined, file);
  let handle: FileHandle | undefined;
  try {
    // stat before open: opening a FIFO or a device could block.
    const stats = await stat(file);
    if (!stats.isFile()) throw fail('secret is not a regular file');
    if (stats.size > MAX_FILE_BYTES) throw fail('secret file is larger than 1 MiB');
    handle = await open(file, 'r');
    const content = await handle.readFile();
    if (content.length > MAX_FILE_BYTES) throw fail('secret file is larger than 1 MiB');
    return content.toString('utf8').replace(/\r?\n$/, '');
  } catch (error) {
    if (error instanceof SecretReadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'EACCES' || code === 'EPERM') throw fail('permission denied');
    throw fail(`cannot read the secret file (${code ?? 'unknown error'})`);
  } finally {
    await handle?.close();
  }
}

/**
 * The variable holding a job's secret (see EnvironmentSecretStore), or undefined when a part has
 * no letter or digit to name it by.
 */
export function secretVariableName(jobId: JobId, path: string): string | undefined {
  const parts = [jobId.group, jobId.project, path].map((part) =>
    part
      .toUpperCase()
      .replace(/[^A-Z0-9]+/g, '_')
      .replace(/^_|_$/g, ''),
  );
  if (parts.some((part) => part === '')) return undefined;
  return `RHYTHM_SECRET_${parts.join('__')}`;
}

/** Variables of the Rhythm process holding secrets, or the credential that reads them. */
const SECRET_VARIABLE = /^(RHYTHM_SECRET_|(RHYTHM_)?VAULT_TOKEN$)/;

/**
 * The environment without the variables this module reads secrets from (`RHYTHM_SECRET_*`) and
 * the Vault token: a runner that starts tasks from the Rhythm process's own environment must
 * drop them, or every job would see every project's secrets.
 */
export function withoutSecretVariables(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLE.test(name)));
}
