import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobId } from '@rhythm/jobs';
import { FakeVault } from '../../../../test/support/fake-vault';
import { freePort } from '../../../../test/support/free-port';
import { SecretReadError } from './secret-store.port';
import { VaultSecretStore, type VaultSecretStoreOptions } from './vault-secret-store';

const TOKEN = 's.rhythm-test-token-0123';
const JOB: JobId = { group: 'g', project: 'p', id: 'j' };
const VALUE = 'hunter2-super-secret';

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

/** Everything of an error a log line or a record could show. */
function printable(error: Error): string {
  return `${error.message} ${error.stack ?? ''} ${JSON.stringify(error)}`;
}

describe(VaultSecretStore.name, () => {
  const stores: VaultSecretStore[] = [];
  const fakes: FakeVault[] = [];

  async function fake(mounts?: Record<string, 1 | 2>): Promise<FakeVault> {
    const vault = await FakeVault.start({ token: TOKEN, ...(mounts ? { mounts } : {}) });
    fakes.push(vault);
    return vault;
  }

  function store(options: Partial<VaultSecretStoreOptions> & { addr: string }): VaultSecretStore {
    const created = new VaultSecretStore({ token: TOKEN, timeoutMs: 2000, ...options });
    stores.push(created);
    return created;
  }

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await Promise.all(fakes.splice(0).map((f) => f.stop()));
  });

  describe('KV v1', () => {
    it('reads data.value of <root><group>/<project>/<path> with the token', async () => {
      const vault = await fake({ secret: 1 });
      vault.put('secret/rhythm/g/p/db/password', { value: VALUE });
      const vaultStore = store({ addr: vault.url, kvVersion: 1 });
      await expect(vaultStore.read(JOB, 'db/password')).resolves.toBe(VALUE);
      expect(vault.seen).toEqual([
        {
          method: 'GET',
          path: '/v1/secret/rhythm/g/p/db/password',
          tokenPresent: true,
          tokenValid: true,
        },
      ]);
    });

    it('is the default version, with the default root secret/rhythm/', async () => {
      const vault = await fake();
      vault.put('secret/rhythm/g/p/api', { value: 'v' });
      const vaultStore = store({ addr: vault.url });
      expect(vaultStore.kvVersion).toBe(1);
      expect(vaultStore.root).toBe('secret/rhythm/');
      await expect(vaultStore.read(JOB, 'api')).resolves.toBe('v');
    });

    it('takes a root with or without its slashes, and encodes each path segment', async () => {
      const vault = await fake({ kv: 1 });
      vault.put('kv/team/g/p/a b?c', { value: 'spaced' });
      const vaultStore = store({ addr: `${vault.url}/`, root: '/kv/team' });
      await expect(vaultStore.read(JOB, 'a b?c')).resolves.toBe('spaced');
      expect(vault.paths).toEqual(['/v1/kv/team/g/p/a%20b%3Fc']);
    });

    it('reports a secret deleted since the last read as not found (nothing cached)', async () => {
      const vault = await fake();
      vault.put('secret/rhythm/g/p/db', { value: VALUE });
      const vaultStore = store({ addr: vault.url });
      await expect(vaultStore.read(JOB, 'db')).resolves.toBe(VALUE);
      vault.delete('secret/rhythm/g/p/db');
      expect((await failureOf(vaultStore.read(JOB, 'db'))).reason).toBe('secret not found');
      expect(vault.seen).toHaveLength(2);
    });

    it('finds nothing at the v1 path of a v2 mount', async () => {
      const vault = await fake({ secret: 2 });
      vault.put('secret/rhythm/g/p/db', { value: VALUE });
      const error = await failureOf(store({ addr: vault.url, kvVersion: 1 }).read(JOB, 'db'));
      expect(error.reason).toBe('secret not found');
    });
  });

  describe('KV v2', () => {
    it('reads data.data.value of <mount>/data/<rest of root><group>/<project>/<path>', async () => {
      const vault = await fake({ secret: 2 });
      vault.put('secret/rhythm/g/p/db/password', { value: 'old' });
      vault.put('secret/rhythm/g/p/db/password', { value: VALUE });
      const vaultStore = store({ addr: vault.url, kvVersion: 2 });
      await expect(vaultStore.read(JOB, 'db/password')).resolves.toBe(VALUE);
      expect(vault.seen).toEqual([
        {
          method: 'GET',
          path: '/v1/secret/data/rhythm/g/p/db/password',
          tokenPresent: true,
          tokenValid: true,
        },
      ]);
    });

    it('uses a one-segment root as the mount', async () => {
      const vault = await fake({ kv: 2 });
      vault.put('kv/g/p/api', { value: 'k' });
      await expect(
        store({ addr: vault.url, kvVersion: 2, root: 'kv/' }).read(JOB, 'api'),
      ).resolves.toBe('k');
      expect(vault.paths).toEqual(['/v1/kv/data/g/p/api']);
    });

    it('reports a soft-deleted version as not found', async () => {
      const vault = await fake({ secret: 2 });
      vault.put('secret/rhythm/g/p/db', { value: VALUE });
      vault.delete('secret/rhythm/g/p/db');
      const error = await failureOf(store({ addr: vault.url, kvVersion: 2 }).read(JOB, 'db'));
      expect(error.message).toBe(
        'Reading secret failed: secret not found: db (Vault secret/data/rhythm/g/p/db)',
      );
    });

    it('finds nothing at the v2 path of a v1 mount', async () => {
      const vault = await fake({ secret: 1 });
      vault.put('secret/rhythm/g/p/db', { value: VALUE });
      const error = await failureOf(store({ addr: vault.url, kvVersion: 2 }).read(JOB, 'db'));
      expect(error.reason).toBe('secret not found');
    });
  });

  describe('failures', () => {
    it.each<[string, 1 | 2, Record<string, unknown>, string]>([
      ['no value field (v1)', 1, { password: VALUE }, "secret's value not found"],
      ['no value field (v2)', 2, { password: VALUE }, "secret's value not found"],
      ['a null value', 1, { value: null }, "secret's value not found"],
      ['a number', 1, { value: 4242424242 }, "secret's value is not string"],
      ['an object (v2)', 2, { value: { nested: VALUE } }, "secret's value is not string"],
    ])('reports %s without showing the secret', async (_name, version, data, reason) => {
      const vault = await fake({ secret: version });
      vault.put('secret/rhythm/g/p/db', data);
      const error = await failureOf(store({ addr: vault.url, kvVersion: version }).read(JOB, 'db'));
      expect(error.reason).toBe(reason);
      expect(error.message).toContain(`Reading secret failed: ${reason}: db (Vault secret/`);
      expect(printable(error)).not.toContain(VALUE);
      expect(printable(error)).not.toContain('4242424242');
    });

    it('reports a missing secret as not found, naming the Vault path', async () => {
      const vault = await fake();
      const error = await failureOf(store({ addr: vault.url }).read(JOB, 'db/password'));
      expect(error.message).toBe(
        'Reading secret failed: secret not found: db/password (Vault secret/rhythm/g/p/db/password)',
      );
    });

    it('reports a wrong token as permission denied, without the token', async () => {
      const vault = await fake();
      vault.put('secret/rhythm/g/p/db', { value: VALUE });
      const wrong = 's.wrong-token-987';
      const error = await failureOf(store({ addr: vault.url, token: wrong }).read(JOB, 'db'));
      expect(error.reason).toBe('permission denied');
      expect(vault.seen[0]).toMatchObject({ tokenPresent: true, tokenValid: false });
      expect(printable(error)).not.toContain(wrong);
      expect(printable(error)).not.toContain(VALUE);
    });

    it('reports a mount Vault does not have as not found', async () => {
      const vault = await fake({ secret: 1 });
      const error = await failureOf(store({ addr: vault.url, root: 'nomount/' }).read(JOB, 'db'));
      expect(error.reason).toBe('secret not found');
    });

    it.each([
      [
        500,
        JSON.stringify({ errors: ['internal error'] }),
        'Vault answered HTTP 500: internal error',
      ],
      [
        503,
        JSON.stringify({ errors: ['Vault is sealed'] }),
        'Vault answered HTTP 503: Vault is sealed',
      ],
      [502, '<html>bad gateway</html>', 'Vault answered HTTP 502'],
      [429, JSON.stringify({ errors: [] }), 'Vault answered HTTP 429'],
    ])('reports HTTP %i with Vault’s errors', async (status, body, reason) => {
      const vault = await fake();
      vault.override = { status, body };
      expect((await failureOf(store({ addr: vault.url }).read(JOB, 'db'))).reason).toBe(reason);
    });

    it('does not echo a 200 body that is not JSON', async () => {
      const vault = await fake();
      vault.override = { status: 200, body: `value=${VALUE}` };
      const error = await failureOf(store({ addr: vault.url }).read(JOB, 'db'));
      expect(error.reason).toBe('Vault answered with a body that is not JSON');
      expect(printable(error)).not.toContain(VALUE);
    });

    it('gives up on a Vault that never answers after the timeout', async () => {
      const vault = await fake();
      vault.hang = true;
      const started = Date.now();
      const error = await failureOf(store({ addr: vault.url, timeoutMs: 150 }).read(JOB, 'db'));
      expect(error.reason).toBe('Vault did not answer within 150 ms');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(vault.seen).toHaveLength(1);
    });

    it('reports an unreachable Vault', async () => {
      const port = await freePort();
      const error = await failureOf(store({ addr: `http://127.0.0.1:${port}` }).read(JOB, 'db'));
      expect(error.reason).toMatch(
        new RegExp(`^Vault at http://127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`),
      );
      expect(printable(error)).not.toContain(TOKEN);
    });

    it.each(['../other/db', '/abs', 'a//b', 'db/..'])(
      'refuses the path %j without asking Vault',
      async (path) => {
        const vault = await fake();
        const error = await failureOf(store({ addr: vault.url }).read(JOB, path));
        expect(error.reason).toMatch(/^secret path must/);
        expect(vault.seen).toEqual([]);
      },
    );
  });

  describe('construction', () => {
    it.each<[string, Partial<VaultSecretStoreOptions>, RegExp]>([
      ['no address', { addr: '' }, /^Vault address not set$/],
      ['a non-URL', { addr: 'not a url' }, /is not a URL/],
      ['a non-HTTP scheme', { addr: 'ftp://vault' }, /must be an http:\/\/ or https:\/\/ URL/],
      ['no token', { token: '' }, /^Vault token not set$/],
      ['a zero timeout', { timeoutMs: 0 }, /positive whole number/],
      ['KV version 3', { kvVersion: 3 as 1 }, /must be 1 or 2/],
      ['an empty root', { root: '/' }, /Vault root '\/' must be a path/],
      ['a root with ..', { root: 'secret/../x' }, /must be a path/],
      ['a CA file for http', { caFile: '/etc/hosts' }, /needs an https:\/\/ address/],
    ])('refuses %s', (_name, options, message) => {
      expect(
        () => new VaultSecretStore({ addr: 'http://127.0.0.1:8200', token: TOKEN, ...options }),
      ).toThrow(message);
    });

    it('refuses a token a header cannot carry, without showing it', () => {
      const token = 'line\nbreak-token';
      let error: unknown;
      try {
        new VaultSecretStore({ addr: 'http://127.0.0.1:8200', token });
      } catch (caught) {
        error = caught;
      }
      expect((error as Error).message).toBe('the Vault token has characters a header cannot carry');
    });
  });

  describe('over HTTPS', () => {
    let dir: string;
    let tlsVault: FakeVault;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'rhythm-vault-tls-'));
      const keyFile = join(dir, 'key.pem');
      const certFile = join(dir, 'cert.pem');
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
          ...['-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2'],
          ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
        ],
        { stdio: 'ignore' },
      );
      tlsVault = await FakeVault.start({
        token: TOKEN,
        mounts: { secret: 2 },
        tls: { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') },
      });
      tlsVault.put('secret/rhythm/g/p/db', { value: VALUE });
    });

    afterAll(async () => {
      await tlsVault.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('trusts Vault through the CA file', async () => {
      const vaultStore = store({ addr: tlsVault.url, kvVersion: 2, caFile: join(dir, 'cert.pem') });
      await expect(vaultStore.read(JOB, 'db')).resolves.toBe(VALUE);
    });

    it('refuses a certificate it does not trust', async () => {
      const error = await failureOf(store({ addr: tlsVault.url, kvVersion: 2 }).read(JOB, 'db'));
      expect(error.reason).toMatch(/is unreachable: .*certificate/);
    });

    it('refuses an unreadable CA file or one without a certificate at construction', () => {
      const empty = join(dir, 'empty.pem');
      writeFileSync(empty, 'no certificate here\n');
      expect(
        () => new VaultSecretStore({ addr: tlsVault.url, token: TOKEN, caFile: empty }),
      ).toThrow(`the Vault CA file ${empty} holds no PEM certificate`);
      expect(
        () => new VaultSecretStore({ addr: tlsVault.url, token: TOKEN, caFile: join(dir, 'nope') }),
      ).toThrow(/^cannot read the Vault CA file .*nope: ENOENT/);
    });
  });
});
