/** A named AWS account jobs pick with the `account` option. Every field is optional. */
export interface AwsAccountOptions {
  /** Default: the SDK's (`AWS_REGION`, then the shared config file). */
  readonly region?: string;
  /**
   * A role assumed through STS AssumeRole with the SDK's default credentials; its temporary
   * credentials sign every call made for this account, and are renewed before they expire.
   */
  readonly roleArn?: string;
  /** The external id the role's trust policy asks for; only with `roleArn`. */
  readonly externalId?: string;
  /** Default: `rhythm-<account name>`. */
  readonly roleSessionName?: string;
  /**
   * One endpoint for EC2, RDS, ECS and STS calls, for a local AWS-compatible service
   * (e.g. `http://localhost:4566`). Default: the SDK's (`AWS_ENDPOINT_URL`, then AWS).
   */
  readonly endpoint?: string;
}

/** How AWS calls that failed for a passing reason (throttling, 5xx, network) are retried. */
export interface AwsRetryOptions {
  /** Attempts per call, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Delay before the second attempt; doubled each time, with jitter. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
}

export interface AwsRunnersModuleOptions {
  /**
   * Named accounts, by the name jobs give as `account` (matched case-insensitively). Jobs without
   * an `account` use the SDK's default chain for credentials, region and endpoint.
   */
  readonly accounts?: Readonly<Record<string, AwsAccountOptions>>;
  /** Between two checks of a resource's state. Default 5000 ms. */
  readonly pollIntervalMs?: number;
  /** How long a run waits for the target state when its job gives no `timeoutSeconds`. Default 900. */
  readonly defaultTimeoutSeconds?: number;
  readonly retry?: AwsRetryOptions;
  /** Where the logs of ended runs are kept (the actions taken and the states seen). */
  readonly logDir: string;
  /** When set, kept logs older than this are deleted when the app starts. */
  readonly logMaxAgeMs?: number;
  /** After a kill, how long a run has to stop before it is reported Killed anyway. Default 5000. */
  readonly killGraceMs?: number;
}

/** The options with every default filled in and every value checked. */
export interface AwsRunnersSettings {
  /** By lower-cased name. */
  readonly accounts: ReadonlyMap<string, AwsAccount>;
  readonly pollIntervalMs: number;
  readonly defaultTimeoutSeconds: number;
  readonly retry: Required<AwsRetryOptions>;
  readonly logDir: string;
  readonly logMaxAgeMs?: number;
  readonly killGraceMs?: number;
}

export interface AwsAccount extends AwsAccountOptions {
  readonly name: string;
}

export const AWS_RUNNERS_SETTINGS = Symbol('AWS_RUNNERS_SETTINGS');

export const DEFAULT_POLL_INTERVAL_MS = 5000;
export const DEFAULT_TIMEOUT_SECONDS = 900;
export const DEFAULT_RETRY: Required<AwsRetryOptions> = {
  maxAttempts: 5,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

/** Fills in the defaults; throws on a value that cannot work, so that a bad config fails the boot. */
export function resolveAwsRunnersSettings(options: AwsRunnersModuleOptions): AwsRunnersSettings {
  const retry = { ...DEFAULT_RETRY, ...definedOnly(options.retry ?? {}) };
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const defaultTimeoutSeconds = options.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  requirePositive('pollIntervalMs', pollIntervalMs);
  requirePositive('defaultTimeoutSeconds', defaultTimeoutSeconds);
  requirePositive('retry.baseDelayMs', retry.baseDelayMs);
  requirePositive('retry.maxDelayMs', retry.maxDelayMs);
  if (!Number.isSafeInteger(retry.maxAttempts) || retry.maxAttempts < 1) {
    throw new RangeError(`AWS runners: retry.maxAttempts must be an integer ≥ 1`);
  }
  if (!options.logDir) throw new RangeError('AWS runners: logDir is required');

  const accounts = new Map<string, AwsAccount>();
  for (const [name, account] of Object.entries(options.accounts ?? {})) {
    const key = name.toLowerCase();
    if (name.trim() === '') throw new RangeError('AWS runners: an account name is empty');
    if (accounts.has(key)) {
      throw new RangeError(`AWS runners: two accounts are named "${name}" (names ignore case)`);
    }
    if (account.externalId !== undefined && account.roleArn === undefined) {
      throw new RangeError(`AWS runners: account "${name}" has an externalId but no roleArn`);
    }
    if (
      account.roleArn !== undefined &&
      !/^arn:[\w-]+:iam::\d{12}:role\/.+/.test(account.roleArn)
    ) {
      throw new RangeError(
        `AWS runners: account "${name}": roleArn must be a role ARN (arn:aws:iam::<account id>:role/<name>)`,
      );
    }
    if (account.endpoint !== undefined && !/^https?:\/\/[^/]/.test(account.endpoint)) {
      throw new RangeError(`AWS runners: account "${name}": endpoint must be an http(s) URL`);
    }
    accounts.set(key, { ...definedOnly(account), name });
  }
  return {
    accounts,
    pollIntervalMs,
    defaultTimeoutSeconds,
    retry,
    logDir: options.logDir,
    ...(options.logMaxAgeMs !== undefined && { logMaxAgeMs: options.logMaxAgeMs }),
    ...(options.killGraceMs !== undefined && { killGraceMs: options.killGraceMs }),
  };
}

function requirePositive(name: string, value: number): void {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`AWS runners: ${name} must be a positive number, got ${value}`);
  }
}

function definedOnly<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, each]) => each !== undefined)) as T;
}
