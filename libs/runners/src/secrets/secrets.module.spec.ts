import { Logger } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EnvironmentSecretStore } from './environment-secret-store';
import { SECRET_STORE } from './secret-store.port';
import { SecretsModule, type SecretsOptions } from './secrets.module';
import { VaultSecretStore } from './vault-secret-store';

const TOKEN = 's.module-test-token';

describe(SecretsModule.name, () => {
  let logged: string[];

  beforeEach(() => {
    logged = [];
    const record = (message: unknown) => {
      logged.push(String(message));
    };
    jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
  });

  afterEach(() => jest.restoreAllMocks());

  async function storeOf(options: SecretsOptions) {
    const moduleRef = await Test.createTestingModule({
      imports: [SecretsModule.forRoot(options)],
    }).compile();
    return { moduleRef, store: moduleRef.get<unknown>(SECRET_STORE) };
  }

  it('provides the environment store, with its directory', async () => {
    const { moduleRef, store } = await storeOf({ backend: 'environment', dir: '/run/secrets' });
    expect(store).toBeInstanceOf(EnvironmentSecretStore);
    expect(logged).toContain(
      'Secrets backend: environment (files under /run/secrets, then RHYTHM_SECRET_* variables)',
    );
    await moduleRef.close();
  });

  it('provides the Vault store, logs no token, warns about plain http and closes it', async () => {
    const { moduleRef, store } = await storeOf({
      backend: 'vault',
      addr: 'http://user:pw@127.0.0.1:8200',
      token: TOKEN,
      root: 'secret/rhythm/',
      kvVersion: 2,
      timeoutMs: 1000,
    });
    expect(store).toBeInstanceOf(VaultSecretStore);
    expect(logged).toEqual(
      expect.arrayContaining([
        'Secrets backend: vault (http://127.0.0.1:8200, root secret/rhythm/, KV v2)',
        'The Vault address is not https: the token travels unencrypted',
      ]),
    );
    expect(logged.join('\n')).not.toMatch(new RegExp(`${TOKEN}|user:pw`));
    const close = jest.spyOn(store as VaultSecretStore, 'close');
    moduleRef.enableShutdownHooks();
    await moduleRef.close();
    expect(close).toHaveBeenCalledTimes(1);
  });

  it('fails to start with the reason when the options cannot work', async () => {
    await expect(
      storeOf({
        backend: 'vault',
        addr: 'http://127.0.0.1:8200',
        token: '',
        root: 'secret/rhythm/',
        kvVersion: 1,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow('Vault token not set');
  });
});
