import type { AwsAccountOptions } from '@rhythm/runners';
import { section, str, type Section } from './config-section';

/**
 * Named AWS accounts for the AWS runners (`aws.accounts` in the config file): name →
 * `{region, rolearn, externalid, rolesessionname, endpoint}`, keys in any case. Jobs without an
 * `account` use the SDK's default chain (AWS_REGION, AWS_ACCESS_KEY_ID…, AWS_ENDPOINT_URL).
 */
export function awsAccounts(aws: Section, problems: string[]): Record<string, AwsAccountOptions> {
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
