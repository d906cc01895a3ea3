import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppExtensions } from '../../apps/api/src/app.module';
import { createApp } from '../../apps/api/src/create-app';
import type { RhythmConfig } from '../../apps/api/src/config/rhythm-config';
import { version } from '../../package.json';

export type StoreKind = 'embedded' | 'redis';

/** A full API application on a real store: a fresh data directory, or a real redis-server. */
export interface TestApp {
  readonly app: INestApplication;
  readonly config: RhythmConfig;
  close(): Promise<void>;
}

export function testConfig(
  storage: RhythmConfig['storage'],
  api: Partial<RhythmConfig['api']> = {},
): RhythmConfig {
  return {
    version,
    api: {
      host: '127.0.0.1',
      port: 0,
      certFile: '',
      keyFile: '',
      bodyLimitBytes: 1024 * 1024,
      auth: { backend: 'none' },
      authCacheTtlMs: 30_000,
      metricsToken: '',
      ...api,
    },
    storage,
    scheduling: {
      timezone: 'UTC',
      pollIntervalMs: 50,
      reconcileIntervalMs: 500,
      leaderTtlMs: 1000,
      historyMaxAgeMs: 7 * 24 * 3600 * 1000,
      historyMaxPerJob: 100,
    },
    runners: { logDir: join(tmpdir(), `rhythm-e2e-logs-${process.pid}`) },
    aws: { accounts: {}, pollIntervalMs: 50 },
    logging: { level: 'error' },
  };
}

export async function startTestApp(
  kind: StoreKind,
  redisUrl?: string,
  api: Partial<RhythmConfig['api']> = {},
  extensions: AppExtensions = {},
): Promise<TestApp> {
  const dataDir = kind === 'embedded' ? mkdtempSync(join(tmpdir(), 'rhythm-e2e-')) : undefined;
  const storage: RhythmConfig['storage'] =
    kind === 'embedded'
      ? { kind: 'embedded', dataDir: dataDir as string }
      : { kind: 'redis', url: requireUrl(redisUrl), keyPrefix: `e2e${Date.now()}:` };
  const config = testConfig(storage, api);
  const app = await createApp(config, false, extensions).catch((error: unknown) => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    app,
    config,
    async close() {
      await app.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function requireUrl(url: string | undefined): string {
  if (!url) throw new Error('a Redis test app needs the URL of a running redis-server');
  return url;
}
