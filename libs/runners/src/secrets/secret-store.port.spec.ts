import { SecretReadError, secretPathSegments } from './secret-store.port';

const JOB = { group: 'g', project: 'p', id: 'j' };

describe(SecretReadError.name, () => {
  it('names the reason and the path, then the variable and the place when known', () => {
    expect(new SecretReadError('db/password', 'secret not found').message).toBe(
      'Reading secret failed: secret not found: db/password',
    );
    const located = new SecretReadError('db/password', 'permission denied', undefined, 'Vault x/y');
    expect(located.message).toBe(
      'Reading secret failed: permission denied: db/password (Vault x/y)',
    );
    expect(located.forEnv('DB_PASSWORD').message).toBe(
      'Reading secret failed for DB_PASSWORD: permission denied: db/password (Vault x/y)',
    );
    expect(located.forEnv('DB_PASSWORD')).toMatchObject({
      name: 'SecretReadError',
      path: 'db/password',
      reason: 'permission denied',
      envName: 'DB_PASSWORD',
      location: 'Vault x/y',
    });
  });
});

describe(secretPathSegments.name, () => {
  it('splits a relative path into its segments', () => {
    expect(secretPathSegments('db/password', JOB)).toEqual(['db', 'password']);
    expect(secretPathSegments('..data/a b/.hidden', JOB)).toEqual(['..data', 'a b', '.hidden']);
  });

  it.each([
    ['', 'secret path is empty'],
    ['/etc/passwd', 'secret path must be relative'],
    ['../other/db', "secret path must not have empty, '.' or '..' segments"],
    ['db/../../other/db', "secret path must not have empty, '.' or '..' segments"],
    ['db/..', "secret path must not have empty, '.' or '..' segments"],
    ['./db', "secret path must not have empty, '.' or '..' segments"],
    ['db//password', "secret path must not have empty, '.' or '..' segments"],
    ['db/', "secret path must not have empty, '.' or '..' segments"],
    ['..\\other', 'secret path must not contain a backslash or a NUL character'],
    ['db\0', 'secret path must not contain a backslash or a NUL character'],
  ])('refuses %j', (path, reason) => {
    expect(() => secretPathSegments(path, JOB)).toThrow(SecretReadError);
    expect(() => secretPathSegments(path, JOB)).toThrow(reason);
  });

  it('refuses a job whose group or project could not be a path segment', () => {
    expect(() => secretPathSegments('db', { group: '..', project: 'p', id: 'j' })).toThrow(
      'the job group or project is not a valid name',
    );
    expect(() => secretPathSegments('db', { group: 'g', project: 'a/b', id: 'j' })).toThrow(
      'the job group or project is not a valid name',
    );
  });
});
