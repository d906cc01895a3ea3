export {
  LOCAL_RUNNER_OPTIONS,
  LocalProcessRunner,
  type LocalProcessRunnerOptions,
} from './local/local-process.runner';
export { DiscoveredRunnerRegistry } from './registry/discovered-runner-registry';
export { RhythmRunner, type RunnerDefinition } from './registry/rhythm-runner.decorator';
export { RunnersModule, type RunnersOptions } from './runners.module';
export { ActionFailure } from './action/action-failure';
export {
  InProcessActionRunner,
  type ActionContext,
  type InProcessActionRunnerOptions,
} from './action/in-process-action.runner';
export { AwsRunnersModule } from './aws/aws-runners.module';
export type {
  AwsAccountOptions,
  AwsRetryOptions,
  AwsRunnersModuleOptions,
} from './aws/aws-runners.options';
export { AwsEc2InstanceRunner } from './aws/ec2-instance.runner';
export { AwsRdsInstanceRunner } from './aws/rds-instance.runner';
export { AwsEcsServiceRunner } from './aws/ecs-service.runner';
export { AwsEcsTaskRunner } from './aws/ecs-task.runner';
export { WebhookRunnerModule } from './example/webhook-runner.module';
export { WebhookRunner, type WebhookRunnerOptions } from './example/webhook.runner';
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
