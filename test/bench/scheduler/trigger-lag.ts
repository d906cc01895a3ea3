import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CronExpression, newJob, type Job, type JobRepository, type JobSpec } from '@rhythm/jobs';
import { openJobStore } from '@rhythm/jobs/infrastructure/job-store';
import { DEFAULT_SCHEDULING_SETTINGS, type SchedulingSettings } from '@rhythm/scheduling';
import {
  commandCounts,
  countDelta,
  cpuWindow,
  log,
  percentile,
  redisConfig,
  sleep,
  waitFor,
  waitForQuiet,
  type BenchRedis,
  type Cleanups,
} from './common';
import { CpuProfiler, type ProfileSummary } from './cpu-profile';
import { startInProcessApp, waitForLeadership, type InProcessApp } from './in-process-app';
import { NoOpRunner, RecordingMetrics, type LaunchRecord } from './no-op-runner';

const GROUP = 'lag';
const PROJECTS = 20;
const SEED_CONCURRENCY = 64;
/** Seeding and checking must end this long before the minute the jobs fire in. */
const SEED_MARGIN_MS = 3_000;
/** A new minute is awaited when fewer seconds than this are left before the next one. */
const MIN_SECONDS_TO_SEED = 25;

/** A round of the measurement: one minute boundary, with these scheduler settings. */
export interface LagRoundSpec {
  readonly label: string;
  readonly settings: SchedulingSettings;
  /** Profiles the process with the V8 sampling profiler during the burst (slows it down). */
  readonly profile: boolean;
  /**
   * What-if, not the product code: memoises CronExpression.nextAfter per minute in this process
   * for the round (exact for five-field crons), to show what the cron cost is worth.
   */
  readonly cronMemo: boolean;
}

export interface LagRoundResult {
  readonly label: string;
  readonly settings: SchedulingSettings;
  readonly profiled: boolean;
  /** Ran with the what-if patch (not the product code): not counted for the goal. */
  readonly whatIf: string | null;
  readonly jobs: number;
  readonly boundary: string;
  readonly launched: number;
  readonly finished: number;
  readonly lagMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
    readonly min: number;
  };
  /** From the minute boundary to the last launch, and to the last Finished commit. */
  readonly lastLaunchMs: number;
  readonly allFinishedMs: number;
  readonly launchesPerSecond: number;
  readonly launchesBeforeBoundary: number;
  readonly jobsLaunchedTwice: number;
  /** From the boundary (−200 ms) to the last Finished commit. */
  readonly window: {
    readonly ms: number;
    readonly nodeCpuPercent: number;
    readonly eventLoopUtilization: number;
    readonly redisCpuPercent: number;
    /** Other processes on the machine (% of one core): a noisy neighbour distorts the round. */
    readonly otherCpuPercent: number;
    /** Redis commands by name, those run inside the Lua scripts included. */
    readonly redisCommands: Readonly<Record<string, number>>;
    /** Client round trips per job: EVALSHA/EVAL calls, and the two-HGET read pipelines. */
    readonly roundTripsPerJob: number;
  };
  /** Launches per 250 ms after the boundary (the shape of the burst). */
  readonly launchesPer250Ms: readonly number[];
  /** Reconciliations (full job list) that overlapped the burst, with their duration. */
  readonly reconcilesDuringBurstMs: readonly number[];
  /** What the store held afterwards (every job Idle, no run, next fire a minute later). */
  readonly storeCheck: string;
  readonly profile?: ProfileSummary;
}

export interface LagOptions {
  readonly redis: BenchRedis;
  readonly cleanups: Cleanups;
  readonly jobs: number;
  readonly rounds: readonly LagRoundSpec[];
  /** Rounds appended (once) when a measured round with the default settings misses the goal. */
  readonly ifMissed: readonly LagRoundSpec[];
  readonly goalP99Ms: number;
  readonly timeoutMs: number;
  readonly resultsDir: string;
  /** Longest wait for other processes to quiet down before seeding. */
  readonly quietWaitSeconds: number;
}

const SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '* * * * *' },
  env: {},
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine', forcePullImage: false } },
  cpus: 0.1,
  mem: 16,
  disk: 0,
  cmd: 'true',
  user: '',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

/**
 * Parses a round: a base, `default` (production settings) or `b<batch>c<concurrency>[p<pollMs>]`
 * (e.g. `b2000c128`), then optional flags: `+profile` (V8 profiler), `+cronmemo` (what-if).
 * `profile` alone means `default+profile`.
 */
export function parseRound(text: string): LagRoundSpec {
  const [base, ...flags] = text.trim().split('+');
  let settings: SchedulingSettings;
  let profile = false;
  if (base === 'default') {
    settings = DEFAULT_SCHEDULING_SETTINGS;
  } else if (base === 'profile') {
    settings = DEFAULT_SCHEDULING_SETTINGS;
    profile = true;
  } else {
    const match = /^b(\d+)c(\d+)(?:p(\d+))?$/.exec(base);
    if (!match) throw new Error(`bad lag round '${text}': use default or b<n>c<n>[p<ms>], +flags`);
    settings = {
      ...DEFAULT_SCHEDULING_SETTINGS,
      batchSize: Number(match[1]),
      concurrency: Number(match[2]),
      pollIntervalMs: match[3] ? Number(match[3]) : DEFAULT_SCHEDULING_SETTINGS.pollIntervalMs,
    };
  }
  const unknown = flags.filter((flag) => flag !== 'profile' && flag !== 'cronmemo');
  if (unknown.length > 0) throw new Error(`bad flag(s) in lag round '${text}': ${unknown.join()}`);
  profile ||= flags.includes('profile');
  const cronMemo = flags.includes('cronmemo');
  const label = base === 'profile' ? 'default+profile' : text.trim();
  return { label, settings, profile, cronMemo };
}

function sameSettings(a: SchedulingSettings, b: SchedulingSettings): boolean {
  return (
    a.batchSize === b.batchSize &&
    a.concurrency === b.concurrency &&
    a.pollIntervalMs === b.pollIntervalMs &&
    a.reconcileIntervalMs === b.reconcileIntervalMs
  );
}

/**
 * 1. Trigger lag: `jobs` jobs (cron `* * * * *`) created in one minute all fire at the next minute
 * boundary; the in-process app (real store, election and scheduler; no-op runner) launches them.
 * Later rounds reuse the jobs: they fire again at each following minute.
 */
export async function measureTriggerLag(options: LagOptions): Promise<LagRoundResult[]> {
  const { redis, cleanups, jobs: count } = options;
  const logDir = mkdtempSync(path.join(tmpdir(), 'rhythm-bench-lag-'));
  const removeLogDir = cleanups.add('lag log dir', async () =>
    rmSync(logDir, { recursive: true, force: true }),
  );
  const config = redisConfig(redis.url, 'lag:', logDir);
  // The bench's own view of the store, for checks; the app's repository is used for seeding.
  const inspector = await openJobStore(config.storage, {
    maxAgeMs: config.scheduling.historyMaxAgeMs,
    maxPerJob: config.scheduling.historyMaxPerJob,
  });
  const closeInspector = cleanups.add('lag store', () => inspector.close());
  const runner = new NoOpRunner();
  const metrics = new RecordingMetrics();
  const reconciles: Array<{ start: number; end: number }> = [];
  let app: InProcessApp | null = null;
  let closeApp: (() => Promise<void>) | null = null;
  const start = async (settings: SchedulingSettings): Promise<InProcessApp> => {
    if (closeApp) await closeApp();
    const started = await startInProcessApp(config, {
      runner,
      metrics,
      settings,
      beforeInit: (repository) => observeLists(repository, reconciles),
    });
    closeApp = cleanups.add('lag app', () => started.close());
    await waitForLeadership(started, 15_000);
    return started;
  };
  const results: LagRoundResult[] = [];
  try {
    const rounds = [...options.rounds];
    let current = rounds[0].settings;
    app = await start(current);
    await waitForQuiet('[lag]', options.quietWaitSeconds, redis.pid);

    // Seed within one minute, so that every job's first occurrence is the next minute boundary.
    const secondsLeft = (60_000 - (Date.now() % 60_000)) / 1000;
    if (secondsLeft < MIN_SECONDS_TO_SEED) {
      log(`[lag] ${secondsLeft.toFixed(1)} s left in this minute; seeding in the next one`);
      await sleep(secondsLeft * 1000 + 200);
    }
    const seedStart = Date.now();
    const firstBoundary = Math.floor(seedStart / 60_000) * 60_000 + 60_000;
    await seed(app.jobs, count);
    log(
      `[lag] seeded ${count} jobs in ${((Date.now() - seedStart) / 1000).toFixed(1)} s; ` +
        `they fire at ${new Date(firstBoundary).toISOString()}`,
    );
    let boundary = await checkedBoundary(inspector.jobs, count, firstBoundary);
    if (Date.now() > boundary - SEED_MARGIN_MS) {
      throw new Error('seeding took too long: the jobs fire before the bench is ready');
    }

    let extended = false;
    for (let i = 0; i < rounds.length; i++) {
      const round = rounds[i];
      if (!sameSettings(round.settings, current)) {
        current = round.settings;
        app = await start(current);
      }
      if (Date.now() > boundary - 1_000) {
        throw new Error(`round '${round.label}' could not be prepared before its minute`);
      }
      log(
        `[lag] round ${i + 1} '${round.label}' (batch ${round.settings.batchSize}, concurrency ` +
          `${round.settings.concurrency}, poll ${round.settings.pollIntervalMs} ms) at ` +
          new Date(boundary).toISOString(),
      );
      const result = await runRound({
        round,
        boundary,
        count,
        runner,
        metrics,
        redis,
        cleanups,
        reconciles,
        timeoutMs: options.timeoutMs,
        resultsDir: options.resultsDir,
      });
      result.storeCheck = await checkAfterRound(inspector.jobs, count, boundary);
      results.push(result);
      log(
        `[lag] p50 ${result.lagMs.p50} ms, p99 ${result.lagMs.p99} ms, max ${result.lagMs.max} ms; ` +
          `last launch ${result.lastLaunchMs} ms, all finished ${result.allFinishedMs} ms; ` +
          result.storeCheck,
      );
      const missed = !round.profile && result.lagMs.p99 > options.goalP99Ms;
      const production = round.settings === DEFAULT_SCHEDULING_SETTINGS && !round.cronMemo;
      if (missed && !extended && production) {
        extended = true;
        rounds.push(...options.ifMissed);
        if (options.ifMissed.length > 0) {
          log(
            `[lag] goal missed; adding rounds ${options.ifMissed.map((r) => r.label).join(', ')}`,
          );
        }
      }
      if (i + 1 < rounds.length) {
        boundary = await checkedBoundary(inspector.jobs, count, boundary + 60_000);
      }
    }
    return results;
  } finally {
    if (closeApp) await (closeApp as () => Promise<void>)();
    await closeInspector();
    await removeLogDir();
  }
}

type MutableResult = Omit<LagRoundResult, 'storeCheck'> & { storeCheck: string };

async function runRound(args: {
  round: LagRoundSpec;
  boundary: number;
  count: number;
  runner: NoOpRunner;
  metrics: RecordingMetrics;
  redis: BenchRedis;
  cleanups: Cleanups;
  reconciles: Array<{ start: number; end: number }>;
  timeoutMs: number;
  resultsDir: string;
}): Promise<MutableResult> {
  const { round, boundary, count, runner, metrics, redis } = args;
  const launches: LaunchRecord[] = [];
  const perJob = new Map<string, number>();
  let finished = 0;
  let lastFinishedAt = 0;
  runner.forget();
  metrics.reset();
  runner.onLaunch = (record) => {
    launches.push(record);
    perJob.set(record.jobKey, (perJob.get(record.jobKey) ?? 0) + 1);
  };
  metrics.onEnded = (outcome) => {
    if (outcome === 'Finished') finished++;
    lastFinishedAt = Date.now();
  };
  let profiler: CpuProfiler | null = null;
  let stopProfiler: (() => Promise<void>) | null = null;
  const unpatch = round.cronMemo ? memoiseNextAfter() : null;
  try {
    if (round.profile) {
      await sleep(boundary - 300 - Date.now());
      profiler = new CpuProfiler();
      const started = profiler;
      stopProfiler = args.cleanups.add('profiler', () => started.abandon());
      await profiler.start();
    }
    await sleep(boundary - 250 - Date.now());
    const commands0 = await commandCounts(redis.client);
    await sleep(boundary - 200 - Date.now());
    const cpu = cpuWindow(redis.pid);
    const elu0 = performance.eventLoopUtilization();
    const t0 = Date.now();

    await waitFor(
      () => launches.length >= count,
      `${count} launches`,
      boundary + args.timeoutMs - Date.now(),
      5,
    );
    await waitFor(
      () => finished >= count,
      `${count} Finished commits`,
      boundary + args.timeoutMs - Date.now(),
      5,
    );
    const t1 = Date.now();
    const elu = performance.eventLoopUtilization(elu0);
    const shares = cpu();
    const commands = countDelta(commands0, await commandCounts(redis.client));
    delete commands.info;
    let profile: ProfileSummary | undefined;
    if (profiler) {
      const file = path.join(
        args.resultsDir,
        `scheduler-lag-${round.label.replace(/\W+/g, '-')}.cpuprofile`,
      );
      profile = await profiler.stop(file);
      profiler = null;
    }

    const lags = launches.map((l) => l.launchedAtMs - l.scheduledAtMs).sort((a, b) => a - b);
    const lastLaunch = Math.max(...launches.map((l) => l.launchedAtMs));
    const firstLaunch = Math.min(...launches.map((l) => l.launchedAtMs));
    const buckets: number[] = [];
    for (const l of launches) {
      const index = Math.max(0, Math.floor((l.launchedAtMs - boundary) / 250));
      while (buckets.length <= index) buckets.push(0);
      buckets[index]++;
    }
    const windowMs = t1 - t0;
    // A batch of updates is read with one pipeline of two HMGETs and written with one script; the
    // leader finds due jobs with ZRANGEBYSCORE (listDue) and ZRANGE (nextDueAt). Commands the
    // scripts run (HGET, HSET, ZADD, …) are not round trips.
    const scripts = (commands.evalsha ?? 0) + (commands.eval ?? 0);
    const roundTrips =
      scripts + (commands.hmget ?? 0) / 2 + (commands.zrangebyscore ?? 0) + (commands.zrange ?? 0);
    return {
      label: round.label,
      settings: round.settings,
      profiled: round.profile,
      whatIf: round.cronMemo ? 'CronExpression.nextAfter memoised per minute' : null,
      jobs: count,
      boundary: new Date(boundary).toISOString(),
      launched: launches.length,
      finished,
      lagMs: {
        p50: percentile(lags, 50),
        p90: percentile(lags, 90),
        p99: percentile(lags, 99),
        max: lags[lags.length - 1],
        min: lags[0],
      },
      lastLaunchMs: lastLaunch - boundary,
      allFinishedMs: lastFinishedAt - boundary,
      launchesPerSecond: launches.length / Math.max(0.001, (lastLaunch - firstLaunch) / 1000),
      launchesBeforeBoundary: launches.filter((l) => l.launchedAtMs < boundary).length,
      jobsLaunchedTwice: [...perJob.values()].filter((n) => n > 1).length,
      window: {
        ms: windowMs,
        nodeCpuPercent: shares.node,
        eventLoopUtilization: elu.utilization,
        redisCpuPercent: shares.redis,
        otherCpuPercent: shares.other,
        redisCommands: commands,
        roundTripsPerJob: roundTrips / count,
      },
      launchesPer250Ms: buckets,
      reconcilesDuringBurstMs: args.reconciles
        .filter((r) => r.end >= t0 && r.start <= t1)
        .map((r) => r.end - r.start),
      storeCheck: '',
      profile,
    };
  } finally {
    runner.onLaunch = () => undefined;
    metrics.onEnded = () => undefined;
    unpatch?.();
    if (stopProfiler) await stopProfiler();
  }
}

/**
 * What-if (bench only): answers CronExpression.nextAfter from a per-expression memo keyed by the
 * minute. Exact for the five-field dialect: nothing fires between minutes, so the next occurrence
 * strictly after an instant is the one strictly after the start of its minute. Returns the undo.
 */
function memoiseNextAfter(): () => void {
  const prototype = CronExpression.prototype;
  const original = Object.getOwnPropertyDescriptor(prototype, 'nextAfter');
  if (!original) throw new Error('CronExpression.prototype.nextAfter not found');
  const compute = original.value as (this: CronExpression, instant: Date) => Date | null;
  const memo = new WeakMap<CronExpression, Map<number, number | null>>();
  prototype.nextAfter = function nextAfter(this: CronExpression, instant: Date): Date | null {
    const minute = Math.floor(instant.getTime() / 60_000) * 60_000;
    let known = memo.get(this);
    if (!known) {
      known = new Map();
      memo.set(this, known);
    }
    let next = known.get(minute);
    if (next === undefined) {
      next = compute.call(this, new Date(minute))?.getTime() ?? null;
      if (known.size >= 1_000) known.clear();
      known.set(minute, next);
    }
    return next === null ? null : new Date(next);
  };
  return () => Object.defineProperty(prototype, 'nextAfter', original);
}

/** Records when the scheduler lists all jobs (its reconciliation does, nothing else in the app). */
function observeLists(
  repository: JobRepository,
  into: Array<{ start: number; end: number }>,
): void {
  const list = repository.list.bind(repository);
  repository.list = async (filter) => {
    const start = Date.now();
    try {
      return await list(filter);
    } finally {
      into.push({ start, end: Date.now() });
    }
  };
}

async function seed(jobs: JobRepository, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const job: Job = newJob(
        { group: GROUP, project: `p${i % PROJECTS}`, id: `j${i}` },
        SPEC,
        new Date(),
        'UTC',
      );
      await jobs.create(job);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
}

/** Checks that all jobs are idle and fire next at `boundary`; returns it. */
async function checkedBoundary(
  jobs: JobRepository,
  count: number,
  boundary: number,
): Promise<number> {
  const all = await jobs.list({ group: GROUP });
  const wrong = all.filter(
    (job) => job.runtime.run !== null || job.runtime.nextFireAt?.getTime() !== boundary,
  );
  if (all.length !== count || wrong.length > 0) {
    const sample = wrong[0];
    throw new Error(
      `expected ${count} idle jobs firing at ${new Date(boundary).toISOString()}, found ` +
        `${all.length} jobs of which ${wrong.length} differ` +
        (sample
          ? ` (e.g. ${sample.jobId.id}: next ${sample.runtime.nextFireAt?.toISOString()}, ` +
            `run ${sample.runtime.run ? 'in flight' : 'none'})`
          : ''),
    );
  }
  return boundary;
}

async function checkAfterRound(
  jobs: JobRepository,
  count: number,
  boundary: number,
): Promise<string> {
  const all = await jobs.list({ group: GROUP });
  const idle = all.filter((job) => job.runtime.state === 'Idle' && job.runtime.run === null);
  const ran = all.filter((job) => (job.runtime.lastStart?.getTime() ?? 0) >= boundary);
  const next = new Map<number, number>();
  for (const job of all) {
    const at = job.runtime.nextFireAt?.getTime() ?? 0;
    next.set(at, (next.get(at) ?? 0) + 1);
  }
  const nextText = [...next.entries()]
    .map(([at, n]) => `${n} next at ${new Date(at).toISOString().slice(11, 19)}`)
    .join(', ');
  return `store: ${all.length}/${count} jobs, ${idle.length} idle, ${ran.length} started since the boundary, ${nextText}`;
}
