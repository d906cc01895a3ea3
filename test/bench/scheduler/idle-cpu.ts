import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { newJob, type JobRepository, type JobSpec } from '@rhythm/jobs';
import { openJobStore } from '@rhythm/jobs/infrastructure/job-store';
import {
  commandCounts,
  countDelta,
  cpuWindow,
  log,
  machineBusySeconds,
  ownCpuSeconds,
  processCpuSeconds,
  redisConfig,
  sleep,
  waitForQuiet,
  type BenchRedis,
  type Cleanups,
} from './common';
import { CpuProfiler, type ProfileSummary } from './cpu-profile';
import { startInProcessApp, waitForLeadership } from './in-process-app';

const SEED_CONCURRENCY = 256;
const SETTLE_MS = 5_000;
const DIRECT_LISTS = 3;

const SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '0 0 1 1 *' },
  env: { MODE: 'bench' },
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine:3.20', forcePullImage: false } },
  cpus: 0.1,
  mem: 32,
  disk: 0,
  cmd: 'echo hello',
  user: '',
  shell: true,
  arguments: [],
  labels: { team: 'bench' },
  maxRetries: 0,
};

/** CPU used over one stretch of time, in ms of CPU (100 % of one core = wall ms). */
export interface CpuSpan {
  readonly wallMs: number;
  readonly nodeCpuMs: number;
  readonly redisCpuMs: number;
}

export interface IdleResult {
  readonly jobs: number;
  readonly seedSeconds: number;
  readonly reconcileIntervalMs: number;
  readonly windowSeconds: number;
  /** The whole window: % of one core. */
  readonly nodeCpuPercent: number;
  readonly redisCpuPercent: number;
  /** Other processes on the machine in the window (% of one core): a noisy neighbour. */
  readonly otherCpuPercent: number;
  /** The seconds of the window that no reconciliation touched. */
  readonly withoutReconcile: {
    readonly seconds: number;
    readonly nodeCpuPercent: number;
    readonly redisCpuPercent: number;
  };
  /** The median second of the window (robust against a single GC or reconcile): % of one core. */
  readonly medianSecond: { readonly nodeCpuPercent: number; readonly redisCpuPercent: number };
  /** Reconciliations (read of the runs in flight + runner reconcile) inside the window. */
  readonly reconcilesInWindow: readonly CpuSpan[];
  /** The reconciliation that began the term (before the window). */
  readonly termStartReconcile: CpuSpan | null;
  /** `jobs.list({})` called by the bench itself, one at a time, after the window. */
  readonly directListAll: readonly CpuSpan[];
  /** Every reconcile's CPU spread over the interval: what reconciling costs on average. */
  readonly reconcileAmortizedNodePercent: number;
  readonly reconcileAmortizedRedisPercent: number;
  /** Redis commands in the window, by name. */
  readonly redisCommands: Readonly<Record<string, number>>;
  readonly perSecond: ReadonlyArray<{
    readonly t: number;
    readonly nodeCpuMs: number;
    readonly redisCpuMs: number;
    readonly otherCpuMs: number;
    readonly reconcile: boolean;
  }>;
  readonly rssMb: number;
  /** A second window of the same length under the V8 profiler (when the goal was missed). */
  readonly profiled?: { readonly nodeCpuPercent: number; readonly profile: ProfileSummary };
}

/**
 * 2. Leader CPU with `count` jobs that are not due: seeds them, starts the in-process app (real
 * runner), waits for leadership and a settle time, then samples CPU every second for the window.
 */
export async function measureIdleCpu(options: {
  redis: BenchRedis;
  cleanups: Cleanups;
  jobs: number;
  windowSeconds: number;
  quietWaitSeconds: number;
  /** Profiles a second window when the first used more than this (% of one core). */
  profileAbovePercent: number;
  resultsDir: string;
}): Promise<IdleResult> {
  const { redis, cleanups, jobs: count } = options;
  const logDir = mkdtempSync(path.join(tmpdir(), 'rhythm-bench-idle-'));
  const removeLogDir = cleanups.add('idle log dir', async () =>
    rmSync(logDir, { recursive: true, force: true }),
  );
  const config = redisConfig(redis.url, 'idle:', logDir);
  const store = await openJobStore(config.storage, {
    maxAgeMs: config.scheduling.historyMaxAgeMs,
    maxPerJob: config.scheduling.historyMaxPerJob,
  });
  const closeStore = cleanups.add('idle store', () => store.close());
  let closeApp: (() => Promise<void>) | null = null;
  try {
    const seedStart = Date.now();
    await seed(store.jobs, count);
    const seedSeconds = (Date.now() - seedStart) / 1000;
    log(`[idle] seeded ${count} jobs in ${seedSeconds.toFixed(1)} s; starting the app`);

    const lists: Array<{ start: number; span: CpuSpan }> = [];
    const app = await startInProcessApp(config, {
      beforeInit: (repository) => observeLists(repository, redis.pid, lists),
    });
    closeApp = cleanups.add('idle app', () => app.close());
    const leading = await waitForLeadership(app, 15_000);
    log(`[idle] leading; settling ${SETTLE_MS / 1000} s`);
    await sleep(leading + SETTLE_MS - Date.now());
    // The term-start reconciliation may still run: wait for it to end.
    while (lists.length === 0 || lists.some((l) => l.span.wallMs < 0)) await sleep(50);
    await waitForQuiet('[idle]', options.quietWaitSeconds, redis.pid);

    log(`[idle] measuring ${options.windowSeconds} s`);
    const samples: Array<{ at: number; node: number; redis: number; machine: number }> = [];
    const sample = (): void => {
      samples.push({
        at: Date.now(),
        node: ownCpuSeconds(),
        redis: processCpuSeconds(redis.pid),
        machine: machineBusySeconds(),
      });
    };
    const commands0 = await commandCounts(redis.client);
    sample();
    const windowStart = samples[0].at;
    for (let s = 1; s <= options.windowSeconds; s++) {
      await sleep(windowStart + s * 1000 - Date.now());
      sample();
    }
    const commands = countDelta(commands0, await commandCounts(redis.client));
    delete commands.info;
    const windowEnd = samples[samples.length - 1].at;
    const rssMb = process.memoryUsage().rss / 1024 / 1024;

    const inWindow = lists.filter(
      (l) => l.start <= windowEnd && l.start + l.span.wallMs >= windowStart,
    );
    const perSecond = samples.slice(1).map((s, i) => {
      const prev = samples[i];
      // A reconciliation touches a second if it overlaps it (with 200 ms for the garbage it leaves).
      const reconcile = inWindow.some(
        (l) => l.start <= s.at && l.start + l.span.wallMs + 200 >= prev.at,
      );
      return {
        t: Math.round((s.at - windowStart) / 1000),
        nodeCpuMs: (s.node - prev.node) * 1000,
        redisCpuMs: (s.redis - prev.redis) * 1000,
        otherCpuMs: Math.max(
          0,
          (s.machine - prev.machine - (s.node - prev.node) - (s.redis - prev.redis)) * 1000,
        ),
        reconcile,
        wallMs: s.at - prev.at,
      };
    });
    const quiet = perSecond.filter((s) => !s.reconcile);
    const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
    const windowMs = windowEnd - windowStart;
    const quietWall = sum(quiet.map((s) => s.wallMs));

    // Direct timings of one full listing, after the window.
    const directListAll: CpuSpan[] = [];
    for (let i = 0; i < DIRECT_LISTS; i++) {
      const t0 = Date.now();
      const span = startSpan(redis.pid);
      const listed = await store.jobs.list({});
      directListAll.push(span(t0));
      if (listed.length !== count) throw new Error(`listed ${listed.length} of ${count} jobs`);
    }

    const allReconciles = lists.map((l) => l.span);
    const meanOf = (pick: (span: CpuSpan) => number): number =>
      allReconciles.length === 0 ? 0 : sum(allReconciles.map(pick)) / allReconciles.length;
    const interval = config.scheduling.reconcileIntervalMs;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const nodeCpuPercent = (100 * (last.node - first.node) * 1000) / windowMs;

    let profiled: IdleResult['profiled'];
    if (nodeCpuPercent > options.profileAbovePercent) {
      log(
        `[idle] ${nodeCpuPercent.toFixed(2)} % > goal: profiling another ${options.windowSeconds} s`,
      );
      const profiler = new CpuProfiler(1_000);
      const stopProfiler = cleanups.add('idle profiler', () => profiler.abandon());
      await profiler.start();
      const window = cpuWindow(redis.pid);
      await sleep(options.windowSeconds * 1000);
      const shares = window();
      const profile = await profiler.stop(
        path.join(options.resultsDir, 'scheduler-idle.cpuprofile'),
      );
      await stopProfiler();
      profiled = { nodeCpuPercent: shares.node, profile };
    }
    return {
      jobs: count,
      seedSeconds,
      reconcileIntervalMs: interval,
      windowSeconds: windowMs / 1000,
      nodeCpuPercent,
      redisCpuPercent: (100 * (last.redis - first.redis) * 1000) / windowMs,
      otherCpuPercent: Math.max(
        0,
        (100 *
          (last.machine - first.machine - (last.node - first.node) - (last.redis - first.redis)) *
          1000) /
          windowMs,
      ),
      withoutReconcile: {
        seconds: quiet.length,
        nodeCpuPercent:
          quietWall > 0 ? (100 * sum(quiet.map((s) => s.nodeCpuMs))) / quietWall : NaN,
        redisCpuPercent:
          quietWall > 0 ? (100 * sum(quiet.map((s) => s.redisCpuMs))) / quietWall : NaN,
      },
      medianSecond: {
        nodeCpuPercent: median(perSecond.map((x) => (100 * x.nodeCpuMs) / x.wallMs)),
        redisCpuPercent: median(perSecond.map((x) => (100 * x.redisCpuMs) / x.wallMs)),
      },
      reconcilesInWindow: inWindow.map((l) => l.span),
      termStartReconcile: lists[0]?.span ?? null,
      directListAll,
      // A reconcile lists all jobs (the rest of it is negligible with no runs in flight).
      reconcileAmortizedNodePercent: (100 * meanOf((s) => s.nodeCpuMs)) / interval,
      reconcileAmortizedRedisPercent: (100 * meanOf((s) => s.redisCpuMs)) / interval,
      redisCommands: commands,
      perSecond: perSecond.map(({ t, nodeCpuMs, redisCpuMs, otherCpuMs, reconcile }) => ({
        t,
        nodeCpuMs,
        redisCpuMs,
        otherCpuMs,
        reconcile,
      })),
      rssMb,
      profiled,
    };
  } finally {
    if (closeApp) await closeApp();
    await closeStore();
    await removeLogDir();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function startSpan(redisPid: number): (startedAt: number) => CpuSpan {
  const node0 = ownCpuSeconds();
  const redis0 = processCpuSeconds(redisPid);
  return (startedAt) => ({
    wallMs: Date.now() - startedAt,
    nodeCpuMs: (ownCpuSeconds() - node0) * 1000,
    redisCpuMs: (processCpuSeconds(redisPid) - redis0) * 1000,
  });
}

/**
 * Records each `list` call of the app's repository (only the scheduler's reconciliation lists all
 * jobs in an app that serves no HTTP): wall time and the CPU of this process and of redis-server
 * while it ran. A running call has wallMs −1.
 */
function observeLists(
  repository: JobRepository,
  redisPid: number,
  into: Array<{ start: number; span: CpuSpan }>,
): void {
  // Reconciliation reads the jobs with a run in flight; time every such read.
  const listInFlight = repository.listInFlight.bind(repository);
  repository.listInFlight = async () => {
    const start = Date.now();
    const entry = {
      start,
      span: { wallMs: -1, nodeCpuMs: 0, redisCpuMs: 0 } as CpuSpan,
    };
    into.push(entry);
    const end = startSpan(redisPid);
    try {
      return await listInFlight();
    } finally {
      entry.span = end(start);
    }
  };
}

async function seed(jobs: JobRepository, count: number): Promise<void> {
  const now = new Date();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await jobs.create(
        newJob({ group: `g${i % 50}`, project: `p${i % 7}`, id: `job-${i}` }, SPEC, now, 'UTC'),
      );
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}
