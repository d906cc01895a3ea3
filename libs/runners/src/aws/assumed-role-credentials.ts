import type { STSClient } from '@aws-sdk/client-sts';
import { loadStsSdk } from './aws-sdk';

/** Credentials as the SDK clients take them from a provider function. */
export interface TemporaryCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface AssumedRole {
  readonly roleArn: string;
  readonly externalId?: string;
  readonly roleSessionName: string;
}

/** Renewed this long before they expire, so that a long wait never signs with stale ones. */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * The temporary credentials of a role, assumed with STS (signed by `sts`, i.e. the SDK's default
 * credentials) on first use and again shortly before they expire. One instance serves every client
 * of an account, so EC2, RDS and ECS calls share one session.
 */
export class AssumedRoleCredentials {
  private current: Promise<TemporaryCredentials> | null = null;
  private expiresAt = 0;

  constructor(
    /** The STS client, created on first use (with the SDK package it needs). */
    private readonly sts: () => Promise<STSClient>,
    private readonly role: AssumedRole,
  ) {}

  /** The provider function given to the SDK clients as `credentials`. */
  readonly provide = (): Promise<TemporaryCredentials> => {
    if (this.current === null || Date.now() >= this.expiresAt - RENEW_BEFORE_MS) {
      const assuming = this.assume();
      this.current = assuming;
      // A failed attempt is not kept: the next call tries again.
      assuming.catch(() => {
        if (this.current === assuming) this.current = null;
      });
    }
    return this.current;
  };

  private async assume(): Promise<TemporaryCredentials> {
    let answer;
    try {
      const [sts, { AssumeRoleCommand }] = await Promise.all([this.sts(), loadStsSdk()]);
      answer = await sts.send(
        new AssumeRoleCommand({
          RoleArn: this.role.roleArn,
          RoleSessionName: this.role.roleSessionName,
          ...(this.role.externalId !== undefined && { ExternalId: this.role.externalId }),
        }),
      );
    } catch (error) {
      throw new AssumeRoleError(this.role.roleArn, error);
    }
    const credentials = answer.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw new Error(`STS AssumeRole of ${this.role.roleArn} answered no credentials`);
    }
    const expiration = credentials.Expiration;
    this.expiresAt = expiration?.getTime() ?? Date.now() + RENEW_BEFORE_MS * 2;
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken !== undefined && { sessionToken: credentials.SessionToken }),
      ...(expiration !== undefined && { expiration }),
    };
  }
}

/**
 * A failed AssumeRole, named for the role; keeps the STS error's code and status, so that it is
 * reported (and retried when throttled) like the error of the call it was signing.
 */
export class AssumeRoleError extends Error {
  readonly Code: string;
  readonly $metadata: { readonly httpStatusCode?: number };

  constructor(roleArn: string, cause: unknown) {
    const source = (typeof cause === 'object' && cause !== null ? cause : {}) as {
      name?: unknown;
      Code?: unknown;
      message?: unknown;
      $metadata?: { httpStatusCode?: number };
    };
    super(
      `cannot assume ${roleArn}: ${typeof source.message === 'string' ? source.message : String(cause)}`,
      { cause },
    );
    this.name = typeof source.name === 'string' ? source.name : 'AssumeRoleError';
    this.Code = typeof source.Code === 'string' ? source.Code : this.name;
    this.$metadata = source.$metadata ?? {};
  }
}
