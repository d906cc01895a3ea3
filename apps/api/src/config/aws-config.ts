import type { AwsAccountOptions } from '@rhythm/runners';
import { num, section, str, type Env, type Section } from './config-section';

/** The AWS runners' settings (`aws` in the config file). */
export interface AwsConfig {
  /** Named accounts; jobs without `account` use the SDK's default chain. */
  readonly accounts: Readonly<Record<string, AwsAccountOptions>>;
  /** How often a run polls the resource it waits for. */
  readonly pollIntervalMs: number;
}

const DEFAULT_POLL_MS = 5000;

export function awsConfig(env: Env, aws: Section, problems: string[]): AwsConfig {
  const text = env.RHYTHM_AWS_POLL_MS;
  const pollIntervalMs =
    text === undefined ? (num(aws.pollinterval) ?? DEFAULT_POLL_MS) : Number(text);
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10) {
    problems.push('RHYTHM_AWS_POLL_MS (aws.pollinterval) must be an integer of at least 10 (ms)');
  }
  return { accounts: awsAccounts(aws, problems), pollIntervalMs };
}

/**
 * Named AWS accounts for the AWS runners (`aws.accounts` in the config file): name →
 * `{region, rolearn, externalid, rolesessionname, endpoint}`, keys in any case. Jobs without an
 * `account` use the SDK's default chain (AWS_REGION, AWS_ACCESS_KEY_ID…, AWS_ENDPOINT_URL).
 */
function awsAccounts(aws: Section, problems: string[]): Record<string, AwsAccountOptions> {
  const accounts: Record<string, AwsAccountOptions> = {};
  for (const [name, value] of Object.entries(section(aws.accounts))) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`aws.accounts.${name} must be an object`);
      continue;
    }
    const account = Object.fromEntries(
      Object.entries(value as Section).map(([key, inner]) => [key.toLowerCase(), inner]),
    );
    const region = str(account.region);
    const roleArn = str(account.rolearn);
    const externalId = str(account.externalid);
    const roleSessionName = str(account.rolesessionname);
    const endpoint = str(account.endpoint);
    accounts[name] = {
      ...(region ? { region } : {}),
      ...(roleArn ? { roleArn } : {}),
      ...(externalId ? { externalId } : {}),
      ...(roleSessionName ? { roleSessionName } : {}),
      ...(endpoint ? { endpoint } : {}),
    };
  }
  return accounts;
}
