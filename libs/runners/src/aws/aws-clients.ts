import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { STSClient } from '@aws-sdk/client-sts';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ActionFailure } from '../action/action-failure';
import { AssumedRoleCredentials } from './assumed-role-credentials';
import {
  AWS_RUNNERS_SETTINGS,
  type AwsAccount,
  type AwsRunnersSettings,
} from './aws-runners.options';
import {
  loadEc2Sdk,
  loadEcsSdk,
  loadRdsSdk,
  loadStsSdk,
  type Ec2Sdk,
  type EcsSdk,
  type RdsSdk,
} from './aws-sdk';

/** A service's client, with its package for the commands (both loaded on first use). */
export interface ServiceClient<Client, Sdk> {
  readonly client: Client;
  readonly sdk: Sdk;
}

/**
 * Client settings shared by every service. `maxAttempts: 1` turns the SDK's own retries off:
 * AwsRun retries throttling and 5xx itself, so that each retry is logged and a kill stops it.
 */
interface ClientSettings {
  readonly maxAttempts: 1;
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: AssumedRoleCredentials['provide'];
}

/** The SDK clients of one account (or of the default chain), created on first use. */
export class AccountClients {
  private ec2Client: EC2Client | null = null;
  private rdsClient: RDSClient | null = null;
  private ecsClient: ECSClient | null = null;
  private stsClient: STSClient | null = null;
  private readonly settings: ClientSettings;

  constructor(private readonly account: AwsAccount | null) {
    const base: ClientSettings = {
      maxAttempts: 1,
      ...(account?.region !== undefined && { region: account.region }),
      ...(account?.endpoint !== undefined && { endpoint: account.endpoint }),
    };
    if (account?.roleArn === undefined) {
      this.settings = base;
      return;
    }
    // STS is called with the default chain's credentials, in the account's region and endpoint.
    const role = new AssumedRoleCredentials(() => this.sts(base), {
      roleArn: account.roleArn,
      roleSessionName: account.roleSessionName ?? sessionNameOf(account.name),
      ...(account.externalId !== undefined && { externalId: account.externalId }),
    });
    this.settings = { ...base, credentials: role.provide };
  }

  /** For the run log: the account and how it is reached, never its credentials. */
  describe(): string {
    const account = this.account;
    if (account === null) return 'default credentials and region';
    const details = [
      account.region && `region ${account.region}`,
      account.roleArn && `role ${account.roleArn}`,
      account.endpoint && `endpoint ${account.endpoint}`,
    ].filter(Boolean);
    return `account ${account.name}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
  }

  async ec2(): Promise<ServiceClient<EC2Client, Ec2Sdk>> {
    const sdk = await loadEc2Sdk();
    this.ec2Client ??= new sdk.EC2Client(this.settings);
    return { client: this.ec2Client, sdk };
  }

  async rds(): Promise<ServiceClient<RDSClient, RdsSdk>> {
    const sdk = await loadRdsSdk();
    this.rdsClient ??= new sdk.RDSClient(this.settings);
    return { client: this.rdsClient, sdk };
  }

  async ecs(): Promise<ServiceClient<ECSClient, EcsSdk>> {
    const sdk = await loadEcsSdk();
    this.ecsClient ??= new sdk.ECSClient(this.settings);
    return { client: this.ecsClient, sdk };
  }

  private async sts(settings: ClientSettings): Promise<STSClient> {
    const sdk = await loadStsSdk();
    this.stsClient ??= new sdk.STSClient(settings);
    return this.stsClient;
  }

  /** Closes the clients' connections. */
  destroy(): void {
    for (const client of [this.ec2Client, this.rdsClient, this.ecsClient, this.stsClient]) {
      client?.destroy();
    }
  }
}

/** The clients of every account a run has used, shared by the AWS runners. */
@Injectable()
export class AwsClients implements OnApplicationShutdown {
  private readonly byAccount = new Map<string, AccountClients>();

  constructor(@Inject(AWS_RUNNERS_SETTINGS) private readonly settings: AwsRunnersSettings) {}

  /** The clients of a named account, or of the SDK's default chain when no name is given. */
  account(name: string | null | undefined): AccountClients {
    const key = name === null || name === undefined ? '' : name.toLowerCase();
    let clients = this.byAccount.get(key);
    if (clients) return clients;
    let account: AwsAccount | null = null;
    if (key !== '') {
      account = this.settings.accounts.get(key) ?? null;
      if (account === null) {
        const known = [...this.settings.accounts.values()].map((each) => each.name).sort();
        throw new ActionFailure(
          `unknown AWS account "${name}": this server has ${known.length > 0 ? known.join(', ') : 'no named accounts'}`,
          'AWS_ACCOUNT',
        );
      }
    }
    clients = new AccountClients(account);
    this.byAccount.set(key, clients);
    return clients;
  }

  onApplicationShutdown(): void {
    for (const clients of this.byAccount.values()) clients.destroy();
    this.byAccount.clear();
  }
}

/** STS allows letters, digits and `+=,.@-`, at most 64 of them. */
function sessionNameOf(account: string): string {
  return `rhythm-${account}`.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
}
