import type { JobId } from '@rhythm/jobs';
import { resolveJobSecrets } from './resolve-job-secrets';
import { SecretReadError, type SecretStore } from './secret-store.port';

const JOB: JobId = { group: 'g', project: 'p', id: 'j' };

/** A store whose reads stay pending until the test settles them. */
class ManualStore implements SecretStore {
  readonly pending = new Map<
    string,
    { resolve: (value: string) => void; reject: (error: unknown) => void }
  >();
  readonly calls: [JobId, string][] = [];

  read(jobId: JobId, path: string): Promise<string> {
    this.calls.push([jobId, path]);
    return new Promise<string>((resolve, reject) => this.pending.set(path, { resolve, reject }));
  }
}

function storeOf(values: Record<string, unknown>): SecretStore {
  return {
    read: async (_jobId, path) => {
      if (!(path in values)) throw new SecretReadError(path, 'secret not found');
      return values[path] as string;
    },
  };
}

async function failureOf(promise: Promise<unknown>): Promise<SecretReadError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof SecretReadError)) {
    throw new Error(`expected a SecretReadError, got ${String(error)}`);
  }
  return error;
}

describe(resolveJobSecrets.name, () => {
  it('reads nothing for a job without secrets', async () => {
    const store = new ManualStore();
    await expect(resolveJobSecrets(store, JOB, {})).resolves.toEqual({});
    expect(store.calls).toEqual([]);
  });

  it('maps every variable to the value of its path, reading in parallel', async () => {
    const store = new ManualStore();
    const resolved = resolveJobSecrets(store, JOB, { DB_PASSWORD: 'db/password', API_KEY: 'api' });
    await Promise.resolve();
    // Both reads are under way before either answers.
    expect(store.calls).toEqual([
      [JOB, 'db/password'],
      [JOB, 'api'],
    ]);
    store.pending.get('api')?.resolve('k-123');
    store.pending.get('db/password')?.resolve('pw-456');
    await expect(resolved).resolves.toEqual({ DB_PASSWORD: 'pw-456', API_KEY: 'k-123' });
  });

  it('rejects on the first failure, naming the variable and the path', async () => {
    const store = new ManualStore();
    const resolved = resolveJobSecrets(store, JOB, { SLOW: 'slow', DB_PASSWORD: 'db/password' });
    await Promise.resolve();
    store.pending
      .get('db/password')
      ?.reject(new SecretReadError('db/password', 'secret not found', undefined, 'Vault x'));
    // The other read never answers: the failure does not wait for it.
    const error = await failureOf(resolved);
    expect(error.message).toBe(
      'Reading secret failed for DB_PASSWORD: secret not found: db/password (Vault x)',
    );
    expect(error).toMatchObject({ envName: 'DB_PASSWORD', path: 'db/password' });
  });

  it('reports an unexpected store error by its message', async () => {
    const store: SecretStore = {
      read: async () => {
        throw new Error('backend exploded');
      },
    };
    const error = await failureOf(resolveJobSecrets(store, JOB, { TOKEN: 'token' }));
    expect(error.message).toBe('Reading secret failed for TOKEN: backend exploded: token');
  });

  it('refuses values that cannot be an environment variable, without showing them', async () => {
    const nul = await failureOf(
      resolveJobSecrets(storeOf({ a: 'pass\0word-value' }), JOB, { A: 'a' }),
    );
    expect(nul.message).toBe(
      "Reading secret failed for A: secret's value contains a NUL character: a",
    );
    expect(nul.message).not.toContain('word-value');
    const number = await failureOf(resolveJobSecrets(storeOf({ b: 987654 }), JOB, { B: 'b' }));
    expect(number.message).toBe("Reading secret failed for B: secret's value is not string: b");
    expect(number.message).not.toContain('987654');
  });

  it('gives an empty value as it is', async () => {
    await expect(resolveJobSecrets(storeOf({ e: '' }), JOB, { E: 'e' })).resolves.toEqual({
      E: '',
    });
  });
});
