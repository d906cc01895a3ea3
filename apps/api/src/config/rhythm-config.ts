import type { JobStoreOptions } from '@rhythm/jobs';

export const RHYTHM_CONFIG = Symbol('RHYTHM_CONFIG');

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The validated configuration of one Rhythm process (see docs/configuration.md). */
export interface RhythmConfig {
  readonly version: string;
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly certFile: string;
    readonly keyFile: string;
    readonly bodyLimitBytes: number;
  };
  readonly storage: JobStoreOptions;
  readonly logging: { readonly level: LogLevel };
}
