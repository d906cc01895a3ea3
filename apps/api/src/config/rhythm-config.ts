import type { AwsConfig } from './aws-config';
import type { MesosConfig } from './mesos-config';
import type { AuthorizerBackendOptions } from '@rhythm/authz';
import type { JobStoreOptions } from '@rhythm/jobs';
import type { SecretsOptions } from '@rhythm/runners';

export const RHYTHM_CONFIG = Symbol('RHYTHM_CONFIG');

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The authorization backend and its settings (`api.auth` in the original config file). */
export type AuthConfig = AuthorizerBackendOptions;

/** The validated configuration of one Rhythm process (see docs/configuration.md). */
export interface RhythmConfig {
  readonly version: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly certFile: string;
    readonly keyFile: string;
    readonly bodyLimitBytes: number;
    readonly auth: AuthConfig;
    /** Decisions are cached per credential and project this long (0: not cached). */
    readonly authCacheTtlMs: number;
    /** When set, /api/v1/metrics needs this token (X-Token or Bearer). */
    readonly metricsToken: string;
  };
  readonly storage: JobStoreOptions;
  readonly scheduling: {
    /** IANA zone for crons of jobs that name none. */
    readonly timezone: string;
    readonly pollIntervalMs: number;
    /** How often the leader re-checks runs in flight with the runner. */
    readonly reconcileIntervalMs: number;
    /** Leader lock TTL (Redis store): a dead leader is replaced within about this long. */
    readonly leaderTtlMs: number;
    readonly historyMaxAgeMs: number;
    readonly historyMaxPerJob: number;
  };
  readonly runners: {
    /** Where the local process runner keeps the output of runs. */
    readonly logDir: string;
  };
  /**
   * Where jobs' secrets are read at launch (`secrets` in the original config file). loadConfig
   * always sets it; absent (hand-built configs) means the environment backend without a directory.
   */
  readonly secrets?: SecretsOptions;
  /** The Mesos cluster command jobs run on; absent or null: they run as local processes. */
  readonly mesos?: MesosConfig | null;
  /** The AWS runners' accounts and polling (`aws`); absent: the SDK's default chain, 5 s polls. */
  readonly aws?: AwsConfig;
  readonly logging: { readonly level: LogLevel };
}
