/** An error from an AWS call, as a run reports it. */
export interface AwsErrorInfo {
  /** The AWS error code (`UnauthorizedOperation`, `DBInstanceNotFound`, …) or the error's name. */
  readonly code: string;
  readonly message: string;
  /** The HTTP status of the answer; absent when there was none (network, configuration). */
  readonly status?: number;
  /** Throttling, a 5xx answer or a network failure: worth another attempt. */
  readonly retryable: boolean;
}

/** Codes AWS services use for "slow down"; some come with 400, EC2's with 503. */
const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'ProvisionedThroughputExceededException',
]);

const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
]);

interface SdkErrorShape {
  readonly name?: unknown;
  readonly message?: unknown;
  /** The wire code on query-protocol errors (the name is the modeled one, e.g. `…Fault`). */
  readonly Code?: unknown;
  readonly code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $retryable?: unknown;
}

export function describeAwsError(error: unknown): AwsErrorInfo {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorShape;
  const name = typeof shape.name === 'string' ? shape.name : 'Error';
  const code = typeof shape.Code === 'string' && shape.Code !== '' ? shape.Code : name;
  const message =
    typeof shape.message === 'string' && shape.message !== '' ? shape.message : String(error);
  const status =
    typeof shape.$metadata?.httpStatusCode === 'number'
      ? shape.$metadata.httpStatusCode
      : undefined;
  const retryable =
    THROTTLING_CODES.has(code) ||
    THROTTLING_CODES.has(name) ||
    TRANSIENT_NAMES.has(name) ||
    (status !== undefined && status >= 500) ||
    (typeof shape.code === 'string' && NETWORK_CODES.has(shape.code)) ||
    (typeof shape.$retryable === 'object' && shape.$retryable !== null);
  return { code, message, retryable, ...(status !== undefined && { status }) };
}
