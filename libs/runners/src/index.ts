export {
  LOCAL_RUNNER_OPTIONS,
  LocalProcessRunner,
  type LocalProcessRunnerOptions,
} from './local/local-process.runner';
export { DiscoveredRunnerRegistry } from './registry/discovered-runner-registry';
export { RhythmRunner, type RunnerDefinition } from './registry/rhythm-runner.decorator';
export { RunnersModule, type RunnersOptions } from './runners.module';
export {
  SECRET_STORE,
  SecretReadError,
  secretPathSegments,
  type SecretStore,
} from './secrets/secret-store.port';
export { resolveJobSecrets } from './secrets/resolve-job-secrets';
export {
  EnvironmentSecretStore,
  secretVariableName,
  withoutSecretVariables,
  type EnvironmentSecretStoreOptions,
} from './secrets/environment-secret-store';
export {
  DEFAULT_VAULT_ROOT,
  DEFAULT_VAULT_TIMEOUT_MS,
  VaultSecretStore,
  type VaultKvVersion,
  type VaultSecretStoreOptions,
} from './secrets/vault-secret-store';
export { SecretsModule, createSecretStore, type SecretsOptions } from './secrets/secrets.module';
