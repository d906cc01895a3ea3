import type { JobId } from '@rhythm/jobs';
import { SecretReadError, type SecretStore } from './secret-store.port';

/**
 * Reads every secret of a job for a launch: environment variable name → secret path in, name →
 * value out. The reads run in parallel; the first failure rejects with a SecretReadError naming
 * the variable and the path, whose message is fit for the run's record (no value in it).
 */
export async function resolveJobSecrets(
  store: SecretStore,
  jobId: JobId,
  secrets: Readonly<Record<string, string>>,
): Promise<Record<string, string>> {
  const entries = Object.entries(secrets);
  if (entries.length === 0) return {};
  const values = await Promise.all(
    entries.map(async ([envName, path]): Promise<[string, string]> => {
      let value: unknown;
      try {
        value = await store.read(jobId, path);
      } catch (error) {
        throw asSecretReadError(error, path).forEnv(envName);
      }
      // Checked here for every backend: the value must be passable as an environment variable.
      if (typeof value !== 'string') {
        throw new SecretReadError(path, "secret's value is not string", envName);
      }
      if (value.includes('\0')) {
        throw new SecretReadError(path, "secret's value contains a NUL character", envName);
      }
      return [envName, value];
    }),
  );
  return Object.fromEntries(values);
}

function asSecretReadError(error: unknown, path: string): SecretReadError {
  if (error instanceof SecretReadError) return error;
  // A store should only throw SecretReadError; anything else is reported by its message alone.
  const reason = error instanceof Error ? error.message : 'unexpected failure';
  return new SecretReadError(path, reason);
}
