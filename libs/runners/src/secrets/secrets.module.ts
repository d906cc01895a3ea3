import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { EnvironmentSecretStore } from './environment-secret-store';
import { SECRET_STORE, type SecretStore } from './secret-store.port';
import { VaultSecretStore, type VaultKvVersion } from './vault-secret-store';

export type SecretsOptions =
  | {
      readonly backend: 'environment';
      /** Directory of secret files, read before the environment (see EnvironmentSecretStore). */
      readonly dir?: string;
    }
  | {
      readonly backend: 'vault';
      readonly addr: string;
      readonly token: string;
      readonly root: string;
      readonly kvVersion: VaultKvVersion;
      readonly timeoutMs: number;
      readonly caFile?: string;
    };

/** Builds the store of the options; throws with a clear message when they cannot work. */
export function createSecretStore(options: SecretsOptions): SecretStore {
  switch (options.backend) {
    case 'environment':
      return new EnvironmentSecretStore(options.dir === undefined ? {} : { dir: options.dir });
    case 'vault':
      return new VaultSecretStore(options);
  }
}

/** What start-up logs about the backend: never the token (nor credentials in the address). */
function summary(store: SecretStore, options: SecretsOptions): string {
  if (store instanceof VaultSecretStore) {
    return `vault (${store.base.origin}, root ${store.root}, KV v${store.kvVersion})`;
  }
  return options.backend === 'environment' && options.dir !== undefined
    ? `environment (files under ${options.dir}, then RHYTHM_SECRET_* variables)`
    : 'environment (RHYTHM_SECRET_* variables)';
}

/**
 * Provides SECRET_STORE, the backend runners read jobs' secrets from at launch, to the whole app.
 */
@Module({})
export class SecretsModule implements OnApplicationShutdown {
  constructor(@Inject(SECRET_STORE) private readonly store: SecretStore) {}

  static forRoot(options: SecretsOptions): DynamicModule {
    return {
      module: SecretsModule,
      global: true,
      providers: [
        {
          provide: SECRET_STORE,
          useFactory: (): SecretStore => {
            const store = createSecretStore(options);
            const logger = new Logger('Secrets');
            logger.log(`Secrets backend: ${summary(store, options)}`);
            if (store instanceof VaultSecretStore && store.base.protocol !== 'https:') {
              logger.warn('The Vault address is not https: the token travels unencrypted');
            }
            return store;
          },
        },
      ],
      exports: [SECRET_STORE],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.store instanceof VaultSecretStore) await this.store.close();
  }
}
