import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { JOB_REPOSITORY, type JobRepository } from '@rhythm/jobs';
import {
  COMMAND_RUNNER,
  LEADER_ELECTION,
  SCHEDULER_METRICS,
  SCHEDULING_SETTINGS,
  type LeaderElection,
  type Runner,
  type SchedulerMetrics,
  type SchedulingSettings,
} from '@rhythm/scheduling';
import { AppModule } from '../../../apps/api/src/app.module';
import type { RhythmConfig } from '../../../apps/api/src/config/rhythm-config';
import { waitFor } from './common';

export interface InProcessApp {
  readonly app: INestApplication;
  readonly jobs: JobRepository;
  readonly election: LeaderElection;
  close(): Promise<void>;
}

export interface Overrides {
  /** Replaces COMMAND_RUNNER (the local process runner otherwise). */
  readonly runner?: Runner;
  readonly metrics?: SchedulerMetrics;
  /** Replaces the scheduler settings AppModule derives from the config. */
  readonly settings?: SchedulingSettings;
  /** Called with the store's repository before the app starts (e.g. to observe calls). */
  readonly beforeInit?: (jobs: JobRepository) => void;
}

/**
 * The real AppModule (Redis store, Redis leader election, SchedulerService) in this process,
 * without an HTTP listener and without shutdown hooks (the bench cleans up itself).
 */
export async function startInProcessApp(
  config: RhythmConfig,
  overrides: Overrides = {},
): Promise<InProcessApp> {
  let builder = Test.createTestingModule({ imports: [AppModule.forRoot(config)] });
  if (overrides.runner) {
    builder = builder.overrideProvider(COMMAND_RUNNER).useValue(overrides.runner);
  }
  if (overrides.metrics) {
    builder = builder.overrideProvider(SCHEDULER_METRICS).useValue(overrides.metrics);
  }
  if (overrides.settings) {
    builder = builder.overrideProvider(SCHEDULING_SETTINGS).useValue(overrides.settings);
  }
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  const jobs = app.get<JobRepository>(JOB_REPOSITORY);
  overrides.beforeInit?.(jobs);
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await app.close();
  };
  try {
    await app.init();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return { app, jobs, election: app.get<LeaderElection>(LEADER_ELECTION), close };
}

/** Resolves with the time (ms since epoch) at which the app was first seen leading. */
export async function waitForLeadership(target: InProcessApp, timeoutMs: number): Promise<number> {
  await waitFor(() => target.election.isLeader(), 'leadership', timeoutMs, 10);
  return Date.now();
}
