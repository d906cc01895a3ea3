import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobId } from '@rhythm/jobs';
import {
  EnvironmentSecretStore,
  secretVariableName,
  withoutSecretVariables,
} from './environment-secret-store';
import { SecretReadError } from './secret-store.port';

const JOB: JobId = { group: 'payments', project: 'billing-api', id: 'nightly' };

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

describe(secretVariableName.name, () => {
  it('upper-cases group, project and path, folds other characters, joins them with __', () => {
    expect(secretVariableName(JOB, 'db/password')).toBe(
      'RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_PASSWORD',
    );
    expect(secretVariableName({ group: 'g', project: 'p', id: 'j' }, '-a.b--c/')).toBe(
      'RHYTHM_SECRET_G__P__A_B_C',
    );
  });

  it("keeps one project's paths apart from another project's variables", () => {
    const app = { group: 'team', project: 'app', id: 'j' };
    const appProd = { group: 'team', project: 'app-prod', id: 'j' };
    expect(secretVariableName(app, 'prod/key')).not.toBe(secretVariableName(appProd, 'key'));
    const split = { group: 'a', project: 'b_c', id: 'j' };
    expect(secretVariableName({ group: 'a_b', project: 'c', id: 'j' }, 'x')).not.toBe(
      secretVariableName(split, 'x'),
    );
    expect(secretVariableName({ group: 'a', project: 'b', id: 'j' }, 'c_x')).not.toBe(
      secretVariableName(split, 'x'),
    );
  });

  it('has no name for a part without letters or digits', () => {
    expect(secretVariableName(JOB, '--')).toBeUndefined();
  });
});

describe(EnvironmentSecretStore.name, () => {
  describe('from variables', () => {
    const env = {
      RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_PASSWORD: 'pw-from-env',
      RHYTHM_SECRET_PAYMENTS__BILLING_API__EMPTY: '',
    };
    const store = new EnvironmentSecretStore({ env });

    it('reads the variable of the job and path', async () => {
      await expect(store.read(JOB, 'db/password')).resolves.toBe('pw-from-env');
      await expect(store.read(JOB, 'empty')).resolves.toBe('');
    });

    it('reports a missing secret with the variable it looked for', async () => {
      const error = await failureOf(store.read(JOB, 'db/user'));
      expect(error.message).toBe(
        'Reading secret failed: secret not found: db/user ($RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_USER)',
      );
    });

    it("does not serve another project's variable", async () => {
      const other = { group: 'payments', project: 'billing', id: 'x' };
      const error = await failureOf(store.read(other, 'api/db/password'));
      expect(error.reason).toBe('secret not found');
      expect(error.message).not.toContain('pw-from-env');
    });

    it('refuses a path without letters or digits', async () => {
      const error = await failureOf(store.read(JOB, '-'));
      expect(error.reason).toBe('secret path has no letter or digit to name a variable by');
    });

    it('reads the process environment by default', async () => {
      const name = 'RHYTHM_SECRET_G__P__FROM_PROCESS';
      process.env[name] = 'process-value';
      try {
        await expect(
          new EnvironmentSecretStore().read({ group: 'g', project: 'p', id: 'j' }, 'from-process'),
        ).resolves.toBe('process-value');
      } finally {
        delete process.env[name];
      }
    });
  });

  describe('from files', () => {
    let dir: string;
    let store: EnvironmentSecretStore;
    const env = {
      RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_PASSWORD: 'pw-from-env',
      RHYTHM_SECRET_PAYMENTS__BILLING_API__ONLY_ENV: 'only-env-value',
    };

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'rhythm-secrets-'));
      const project = join(dir, 'payments', 'billing-api');
      mkdirSync(join(project, 'db'), { recursive: true });
      mkdirSync(join(project, 'folder'), { recursive: true });
      mkdirSync(join(dir, 'payments', 'other'), { recursive: true });
      writeFileSync(join(project, 'db', 'password'), 'pw-from-file\n');
      writeFileSync(join(project, 'crlf'), 'crlf-value\r\n');
      writeFileSync(join(project, 'lines'), 'two\n\n');
      writeFileSync(join(project, 'big'), Buffer.alloc(1024 * 1024 + 1, 'a'));
      writeFileSync(join(dir, 'payments', 'other', 'token'), 'other-project-value');
      store = new EnvironmentSecretStore({ dir, env });
    });

    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('reads <dir>/<group>/<project>/<path> before the variable, less one trailing newline', async () => {
      await expect(store.read(JOB, 'db/password')).resolves.toBe('pw-from-file');
      await expect(store.read(JOB, 'crlf')).resolves.toBe('crlf-value');
      await expect(store.read(JOB, 'lines')).resolves.toBe('two\n');
    });

    it('falls back to the variable when there is no file', async () => {
      await expect(store.read(JOB, 'only-env')).resolves.toBe('only-env-value');
    });

    it('reports a missing secret with both places it looked', async () => {
      const error = await failureOf(store.read(JOB, 'db/user'));
      expect(error.message).toBe(
        `Reading secret failed: secret not found: db/user (${join(dir, 'payments', 'billing-api', 'db', 'user')} or $RHYTHM_SECRET_PAYMENTS__BILLING_API__DB_USER)`,
      );
    });

    it('treats a path through a file as missing', async () => {
      const error = await failureOf(store.read(JOB, 'db/password/more'));
      expect(error.reason).toBe('secret not found');
    });

    it('refuses a directory and a file over 1 MiB', async () => {
      expect((await failureOf(store.read(JOB, 'folder'))).reason).toBe(
        'secret is not a regular file',
      );
      expect((await failureOf(store.read(JOB, 'big'))).reason).toBe(
        'secret file is larger than 1 MiB',
      );
    });

    it.each([
      ['../other/token', "secret path must not have empty, '.' or '..' segments"],
      ['db/../../other/token', "secret path must not have empty, '.' or '..' segments"],
      [`/${'payments/other/token'}`, 'secret path must be relative'],
      ['..\\other\\token', 'secret path must not contain a backslash or a NUL character'],
    ])('refuses the traversal %j', async (path, reason) => {
      const error = await failureOf(store.read(JOB, path));
      expect(error.reason).toBe(reason);
      expect(error.message).not.toContain('other-project-value');
    });

    it('refuses a job whose names could leave the directory', async () => {
      const error = await failureOf(store.read({ group: '..', project: 'payments', id: 'j' }, 'x'));
      expect(error.reason).toBe('the job group or project is not a valid name');
    });
  });
});

describe(withoutSecretVariables.name, () => {
  it('drops the secret variables and the Vault token, keeping the rest', () => {
    expect(
      withoutSecretVariables({
        PATH: '/usr/bin',
        RHYTHM_SECRET_G__P__DB: 'pw',
        VAULT_TOKEN: 't1',
        RHYTHM_VAULT_TOKEN: 't2',
        VAULT_ADDR: 'http://vault:8200',
        MY_RHYTHM_SECRET_NOTE: 'kept',
      }),
    ).toEqual({ PATH: '/usr/bin', VAULT_ADDR: 'http://vault:8200', MY_RHYTHM_SECRET_NOTE: 'kept' });
  });
});
