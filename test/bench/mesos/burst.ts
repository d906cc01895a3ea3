import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MesosSimulator,
  type RecordedCall,
  type RecordedEvent,
} from '@rhythm/mesos-adapter/testing/simulator';
import {
  cpuWindow,
  log,
  percentile,
  processCpuSeconds,
  sleep,
  startRedis,
  waitForQuiet,
  type Cleanups,
} from '../scheduler/common';
import { RhythmProcess, RssSampler } from './rhythm-process';

const GROUP = 'mesos-bench';
const PROJECTS = 10;
const CREATE_CONCURRENCY = 32;
const RECORD_CONCURRENCY = 16;
/** The jobs' minute is at least this far away when they are created. */
const MIN_LEAD_MS = 12_000;
/** Creating and checking the jobs must end this long before their minute. */
const READY_MARGIN_MS = 3_000;
const POLL_MS = 100;
const BUSY_STATES = new Set(['Staging', 'Starting', 'Running']);

/** One burst: a fresh redis-server, simulator and Rhythm process, N jobs due at one instant. */
export interface BurstSettings {
  readonly label: string;
  readonly jobs: number;
  readonly agents: number;
  readonly agentCpus: number;
  readonly agentMemMb: number;
  readonly allocationIntervalMs: number;
  /** Run time of every task (the simulator's instant runner). */
  readonly taskDurationMs: number;
  /** From the due time to every run recorded; the round gives up afterwards. */
  readonly timeoutMs: number;
  readonly quietWaitSeconds: number;
  readonly redisFsync: string;
  /** Extra `node` flags for the Rhythm process, e.g. `--cpu-prof --cpu-prof-dir=DIR`. */
  readonly apiNodeArgs: readonly string[];
  /** Runs the built `dist` instead of the sources under ts-node (whose compiler adds to RSS). */
  readonly fromDist: boolean;
}

export interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface BurstResult {
  readonly settings: BurstSettings;
  /** Load average (1, 5, 15 min) when the round started. */
  readonly loadAverage: readonly number[];
  readonly due: string;
  readonly createSeconds: number;
  /** Jobs with at least one task in an accepted LAUNCH. */
  readonly launched: number;
  /** From the due time, ms; null when not every job was launched. */
  readonly firstReviveMs: number | null;
  readonly firstAcceptMs: number | null;
  readonly lastAcceptMs: number | null;
  /** The last TASK_FINISHED update sent to Rhythm, and Rhythm's last ACKNOWLEDGE. */
  readonly lastFinishedUpdateMs: number | null;
  readonly lastAcknowledgeMs: number | null;
  /** The first list answer in which every job was back at rest with a run this minute. */
  readonly allRecordedMs: number | null;
  /** Due → the ACCEPT that launched the job's task, per job. */
  readonly lagMs: Percentiles | null;
  /** Due → the scheduler's launch decision (task record `Start` − `ScheduledAt`). */
  readonly decisionLagMs: Percentiles | null;
  /** `rhythm_job_trigger_lag_seconds`: sample count and the bucket holding the p99. */
  readonly histogram: { readonly count: number; readonly p99AtMostSeconds: string };
  /** Scheduler calls of the burst (from 1 s before the due time to the end), by type. */
  readonly calls: Readonly<Record<string, number>>;
  readonly callsNot2xx: number;
  /**
   * Every call but ACKNOWLEDGE as the master handled it, `<ms after due> <type>[(tasks or
   * refuse_seconds)]`, and every OFFERS event as it was sent, `<ms> OFFERS→(<offers>)`.
   */
  readonly timeline: readonly string[];
  /** DECLINE calls by their `refuse_seconds` filter. */
  readonly declineRefuseSeconds: Readonly<Record<string, number>>;
  readonly offerEvents: number;
  readonly offersSent: number;
  /** UPDATE events sent to Rhythm in the burst, by task state (re-sent ones included). */
  readonly updates: Readonly<Record<string, number>>;
  /** Accepted ACCEPT calls: ms after due, tasks launched. */
  readonly accepts: ReadonlyArray<{
    readonly atMs: number;
    readonly tasks: number;
    /** The agent's id suffix (`S<n>`). */
    readonly agent: string;
  }>;
  readonly jobsLaunchedTwice: number;
  readonly taskIdsInTwoAccepts: number;
  /** Task records of this minute by state; jobs with none, jobs with more than one. */
  readonly records: {
    readonly byState: Readonly<Record<string, number>>;
    readonly jobsWithoutRecord: number;
    readonly jobsWithSeveral: number;
  };
  readonly rssMb: {
    /** Before the due time, with the jobs created and the framework suppressed. */
    readonly beforeDue: number;
    /** Peak sampled every 100 ms from 1 s before the due time to every run recorded. */
    readonly burstPeak: number;
    /** Over the process's life: the larger of the samples and the kernel's VmHWM. */
    readonly lifetimePeak: number;
  };
  /** % of one core from 500 ms before the due time until every run was recorded. */
  readonly cpu: {
    readonly windowMs: number;
    readonly rhythm: number;
    readonly redis: number;
    /** The bench process: the simulated master and agents, and the bench's polling. */
    readonly simulator: number;
    readonly other: number;
  };
  readonly rhythmOutput: string;
}

interface JobName {
  readonly group: string;
  readonly project: string;
  readonly id: string;
}

interface JobAnswer {
  Group: string;
  Project: string;
  ID: string;
  State: string;
  CurrentTaskID: string;
  LastStart: string;
  NextStart: string;
}

interface TaskAnswer {
  TaskID: string;
  Start: string;
  ScheduledAt?: string;
  State?: string;
}

/** Runs one burst and stops everything it started, also when it fails. */
export async function runBurst(settings: BurstSettings, cleanups: Cleanups): Promise<BurstResult> {
  const loadAverage = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const redis = await startRedis(cleanups, settings.redisFsync);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rhythm-bench-mesos-'));
  const removeScratch = cleanups.add('mesos bench temp dir', async () =>
    rmSync(scratch, { recursive: true, force: true }),
  );
  let simulator: MesosSimulator | null = null;
  const stopSimulator = cleanups.add('mesos simulator', async () => simulator?.stop());
  let rhythm: RhythmProcess | null = null;
  const stopRhythm = cleanups.add('rhythm process', async () => rhythm?.stop());
  let rss: RssSampler | null = null;
  try {
    simulator = await MesosSimulator.start({
      agents: Array.from({ length: settings.agents }, () => ({
        cpus: settings.agentCpus,
        mem: settings.agentMemMb,
        disk: 0,
      })),
      allocationIntervalMs: settings.allocationIntervalMs,
      taskRunner: 'instant',
      instantTaskDurationMs: settings.taskDurationMs,
    });
    const sim = simulator;
    rhythm = await RhythmProcess.start({
      nodeArgs: settings.apiNodeArgs,
      fromDist: settings.fromDist,
      env: {
        RHYTHM_STORAGE: 'redis',
        RHYTHM_REDIS_URL: redis.url,
        RHYTHM_MESOS_MASTERS: sim.masterUrls.join(','),
        RHYTHM_LOG_LEVEL: 'error',
        RHYTHM_LOG_DIR: path.join(scratch, 'logs'),
        RHYTHM_TIMEZONE: 'UTC',
      },
    });
    const api = rhythm;
    rss = new RssSampler(api.pid);
    await api.waitForLeadership(90_000);
    await sim.waitFor(
      () => sim.frameworks().find((f) => f.connected && f.suppressedRoles.length > 0),
      30_000,
      'Rhythm to subscribe and suppress its offers',
    );
    await waitForQuiet(`[${settings.label}]`, settings.quietWaitSeconds, redis.pid);

    const due = Math.ceil((Date.now() + MIN_LEAD_MS) / 60_000) * 60_000;
    const names = Array.from({ length: settings.jobs }, (_, i) => jobName(i));
    const createStart = Date.now();
    await inPool(names, CREATE_CONCURRENCY, (name) => createJob(api.url, name, due));
    const createSeconds = (Date.now() - createStart) / 1000;
    await checkScheduled(api.url, settings.jobs, due);
    log(
      `[${settings.label}] created ${settings.jobs} jobs in ${createSeconds.toFixed(1)} s; ` +
        `due at ${new Date(due).toISOString()}`,
    );
    if (Date.now() > due - READY_MARGIN_MS) {
      throw new Error('creating the jobs took too long: they come due before the bench is ready');
    }

    await sleep(due - 1_000 - Date.now());
    const beforeDue = rss.mark();
    const firstCall = sim.calls.length;
    const firstEvent = sim.events.length;
    await sleep(due - 500 - Date.now());
    const machine = cpuWindow(redis.pid);
    const rhythmCpu0 = processCpuSeconds(api.pid);

    const deadline = due + settings.timeoutMs;
    // Every job launched and none of our tasks still active (the master keeps only the latest
    // 1,000 completed tasks per framework, so completed ones cannot be counted).
    const atMesos = await pollUntil(
      deadline,
      () =>
        launchesOf(sim.calls.slice(firstCall)).byJob.size >= settings.jobs &&
        sim.tasks().every((task) => task.completed || !task.taskId.startsWith(`${GROUP}:`)),
    );
    if (!atMesos) log(`[${settings.label}] not every task ended at Mesos in time`);
    const recordedAt = await pollUntil(deadline, async () => allAtRest(api.url, names, due));
    const shares = machine();
    const rhythmPercent =
      (100 * (processCpuSeconds(api.pid) - rhythmCpu0) * 1000) / Math.max(1, shares.wallMs);
    const burstPeak = rss.peakSinceMarkMb();
    const lifetimePeak = Math.max(rss.peakMb(), rss.highWaterMarkMb() ?? 0);

    const calls = sim.calls.slice(firstCall);
    const events = sim.events.slice(firstEvent);
    const launches = launchesOf(calls);
    // An idle second that sets the burst apart from the reads below in a `--cpu-prof` profile.
    await sleep(1_000);
    const records = await readRecords(api.url, names, due);
    const histogram = await lagHistogram(api.url);

    const result: BurstResult = {
      settings,
      loadAverage,
      due: new Date(due).toISOString(),
      createSeconds,
      launched: launches.byJob.size,
      firstReviveMs: firstAt(calls, 'REVIVE', due),
      firstAcceptMs: launches.accepts.length > 0 ? launches.accepts[0].at - due : null,
      lastAcceptMs:
        launches.byJob.size >= settings.jobs ? Math.max(...launches.firstAt.values()) - due : null,
      lastFinishedUpdateMs: lastFinishedUpdate(events, due),
      lastAcknowledgeMs: lastAt(calls, 'ACKNOWLEDGE', due),
      allRecordedMs: recordedAt === null ? null : recordedAt - due,
      lagMs: percentiles([...launches.firstAt.values()].map((at) => at - due)),
      decisionLagMs: percentiles(records.decisionLags),
      histogram,
      calls: countBy(calls.map((call) => call.type ?? 'unreadable')),
      callsNot2xx: calls.filter((call) => call.status >= 300).length,
      timeline: timelineOf(calls, events, due),
      declineRefuseSeconds: countBy(
        calls
          .filter((call) => call.type === 'DECLINE')
          .map((call) =>
            String((call.body as DeclineBody).decline?.filters?.refuse_seconds ?? '-'),
          ),
      ),
      offerEvents: events.filter((e) => e.event.type === 'OFFERS').length,
      offersSent: events.reduce((sum, e) => sum + (e.event.offers?.offers?.length ?? 0), 0),
      updates: countBy(events.flatMap(updateKind)),
      accepts: launches.accepts.map((a) => ({ atMs: a.at - due, tasks: a.tasks, agent: a.agent })),
      jobsLaunchedTwice: [...launches.byJob.values()].filter((ids) => ids.size > 1).length,
      taskIdsInTwoAccepts: launches.taskIdsInTwoAccepts,
      records: {
        byState: records.byState,
        jobsWithoutRecord: records.jobsWithoutRecord,
        jobsWithSeveral: records.jobsWithSeveral,
      },
      rssMb: { beforeDue, burstPeak, lifetimePeak },
      cpu: {
        windowMs: shares.wallMs,
        rhythm: rhythmPercent,
        redis: shares.redis,
        simulator: shares.node,
        other: Math.max(0, shares.other - rhythmPercent),
      },
      rhythmOutput: api.output.slice(-2000),
    };
    log(`[${settings.label}] ${summaryLine(result)}`);
    return result;
  } catch (error) {
    if (rhythm && rhythm.output.trim() !== '') {
      log(`[${settings.label}] Rhythm output (tail):\n${rhythm.output.slice(-2000)}`);
    }
    throw error;
  } finally {
    rss?.stop();
    await stopRhythm();
    await stopSimulator();
    await redis.stop();
    await removeScratch();
  }
}

export function summaryLine(r: BurstResult): string {
  const ms = (value: number | null): string => (value === null ? 'never' : `${value} ms`);
  return (
    `launched ${r.launched}/${r.settings.jobs}, last ACCEPT ${ms(r.lastAcceptMs)}, all recorded ` +
    `${ms(r.allRecordedMs)}, lag p50 ${r.lagMs?.p50 ?? '-'} ms p99 ${r.lagMs?.p99 ?? '-'} ms, ` +
    `peak RSS ${r.rssMb.burstPeak.toFixed(0)} MB, calls ${JSON.stringify(r.calls)}`
  );
}

// ---------------------------------------------------------------------------------------------
// The jobs

function jobName(i: number): JobName {
  return { group: GROUP, project: `p${i % PROJECTS}`, id: `job-${String(i).padStart(5, '0')}` };
}

function jobPath(name: JobName): string {
  return `${name.group}/${name.project}/${name.id}`;
}

/** A cron that fires only at the `due` minute (UTC) of this year. */
function cronAt(due: number): string {
  const d = new Date(due);
  return `${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
}

async function createJob(url: string, name: JobName, due: number): Promise<void> {
  const response = await fetch(`${url}/api/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      ...name,
      schedule: { cron: cronAt(due), timezone: 'UTC' },
      cpus: 0.1,
      mem: 32,
      disk: 0,
      cmd: 'true',
      container: { docker: { image: 'alpine:3.8' } },
    }),
    signal: AbortSignal.timeout(30_000),
  });
  if (response.status !== 204) {
    throw new Error(
      `creating ${jobPath(name)} answered ${response.status}: ${await response.text()}`,
    );
  }
}

async function listJobs(url: string): Promise<JobAnswer[]> {
  const response = await fetch(`${url}/api/v1/jobs`, { signal: AbortSignal.timeout(30_000) });
  if (!response.ok) throw new Error(`GET /api/v1/jobs answered ${response.status}`);
  return ((await response.json()) as JobAnswer[]).filter((job) => job.Group === GROUP);
}

async function checkScheduled(url: string, count: number, due: number): Promise<void> {
  const jobs = await listJobs(url);
  const next = new Date(due).toISOString();
  const scheduled = jobs.filter((job) => job.NextStart === next).length;
  if (jobs.length !== count || scheduled !== count) {
    throw new Error(
      `expected ${count} jobs due at ${next}; ${jobs.length} listed, ${scheduled} due`,
    );
  }
}

/** Every job at rest (no run in flight) with a launch at or after the due time. */
async function allAtRest(url: string, names: readonly JobName[], due: number): Promise<boolean> {
  const jobs = await listJobs(url);
  if (jobs.length !== names.length) return false;
  return jobs.every(
    (job) =>
      job.CurrentTaskID === '' && !BUSY_STATES.has(job.State) && Date.parse(job.LastStart) >= due,
  );
}

async function readRecords(
  url: string,
  names: readonly JobName[],
  due: number,
): Promise<{
  byState: Record<string, number>;
  jobsWithoutRecord: number;
  jobsWithSeveral: number;
  decisionLags: number[];
}> {
  const states: string[] = [];
  const decisionLags: number[] = [];
  let jobsWithoutRecord = 0;
  let jobsWithSeveral = 0;
  await inPool(names, RECORD_CONCURRENCY, async (name) => {
    const response = await fetch(`${url}/api/v1/jobs/${jobPath(name)}/tasks`, {
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`GET tasks of ${jobPath(name)} answered ${response.status}`);
    const tasks = ((await response.json()) as TaskAnswer[]).filter(
      (task) => task.ScheduledAt !== undefined && Date.parse(task.ScheduledAt) === due,
    );
    if (tasks.length === 0) jobsWithoutRecord++;
    if (tasks.length > 1) jobsWithSeveral++;
    for (const task of tasks) {
      states.push(task.State ?? 'unknown');
      decisionLags.push(Date.parse(task.Start) - due);
    }
  });
  return { byState: countBy(states), jobsWithoutRecord, jobsWithSeveral, decisionLags };
}

/** The trigger lag histogram of /api/v1/metrics: sample count and the bucket of the p99. */
async function lagHistogram(url: string): Promise<BurstResult['histogram']> {
  const response = await fetch(`${url}/api/v1/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  const count = Number(/^rhythm_job_trigger_lag_seconds_count\s+(\S+)/m.exec(text)?.[1] ?? NaN);
  const buckets = [
    ...text.matchAll(/^rhythm_job_trigger_lag_seconds_bucket\{le="([^"]+)"\}\s+(\S+)/gm),
  ];
  const p99 = buckets.find((bucket) => Number(bucket[2]) >= 0.99 * count);
  return { count, p99AtMostSeconds: p99?.[1] ?? 'n/a' };
}

// ---------------------------------------------------------------------------------------------
// What the simulated master saw

interface Launches {
  /** Accepted ACCEPT calls in order: when, and how many tasks they launched. */
  readonly accepts: Array<{ at: number; tasks: number; agent: string }>;
  /** Distinct task ids launched per job (`group:project:id`). */
  readonly byJob: Map<string, Set<string>>;
  /** The first ACCEPT that launched a task of the job. */
  readonly firstAt: Map<string, number>;
  readonly taskIdsInTwoAccepts: number;
}

interface AcceptBody {
  accept?: {
    operations?: Array<{
      type?: string;
      launch?: { task_infos?: Array<{ task_id: { value: string }; agent_id?: { value: string } }> };
    }>;
  };
}

interface DeclineBody {
  decline?: { filters?: { refuse_seconds?: number } };
}

function launchesOf(calls: readonly RecordedCall[]): Launches {
  const accepts: Array<{ at: number; tasks: number; agent: string }> = [];
  const byJob = new Map<string, Set<string>>();
  const firstAt = new Map<string, number>();
  const seen = new Set<string>();
  let taskIdsInTwoAccepts = 0;
  for (const call of calls) {
    if (call.type !== 'ACCEPT' || call.status !== 202) continue;
    let tasks = 0;
    let agent = '?';
    for (const operation of (call.body as AcceptBody).accept?.operations ?? []) {
      if (operation.type !== 'LAUNCH') continue;
      for (const info of operation.launch?.task_infos ?? []) {
        const taskId = info.task_id.value;
        if (!taskId.startsWith(`${GROUP}:`)) continue;
        tasks++;
        agent = info.agent_id?.value.split('-').pop() ?? '?';
        if (seen.has(taskId)) taskIdsInTwoAccepts++;
        seen.add(taskId);
        const job = taskId.slice(0, taskId.lastIndexOf(':'));
        const ids = byJob.get(job) ?? new Set<string>();
        ids.add(taskId);
        byJob.set(job, ids);
        if (!firstAt.has(job)) firstAt.set(job, call.at);
      }
    }
    accepts.push({ at: call.at, tasks, agent });
  }
  return { accepts, byJob, firstAt, taskIdsInTwoAccepts };
}

function timelineOf(
  calls: readonly RecordedCall[],
  events: readonly RecordedEvent[],
  due: number,
): string[] {
  const entries = [
    ...calls
      .filter((call) => call.type !== 'ACKNOWLEDGE')
      .map((call) => ({ at: call.at, text: timelineEntry(call, due) })),
    ...events
      .filter((e) => e.event.type === 'OFFERS')
      .map((e) => ({
        at: e.at,
        text: `${e.at - due} OFFERS→(${e.event.offers?.offers?.length ?? 0})`,
      })),
  ];
  // Stable: a call and the offers it caused keep their order within a millisecond.
  return entries.sort((a, b) => a.at - b.at).map((entry) => entry.text);
}

function timelineEntry(call: RecordedCall, due: number): string {
  const at = `${call.at - due} ${call.type ?? '?'}`;
  if (call.type === 'ACCEPT') return `${at}(${launchesOf([call]).accepts[0]?.tasks ?? 0})`;
  if (call.type === 'DECLINE') {
    return `${at}(${(call.body as DeclineBody).decline?.filters?.refuse_seconds ?? '-'} s)`;
  }
  return call.status < 300 ? at : `${at}[${call.status}]`;
}

/** An UPDATE's task state; reconciliation answers (no uuid) are told apart. */
function updateKind(recorded: RecordedEvent): string[] {
  const status = recorded.event.type === 'UPDATE' ? recorded.event.update?.status : undefined;
  if (!status) return [];
  return [status.uuid === undefined ? `${status.state} (reconciliation)` : status.state];
}

function firstAt(calls: readonly RecordedCall[], type: string, due: number): number | null {
  const call = calls.find((c) => c.type === type && c.at >= due);
  return call ? call.at - due : null;
}

function lastAt(calls: readonly RecordedCall[], type: string, due: number): number | null {
  const times = calls.filter((c) => c.type === type).map((c) => c.at);
  return times.length === 0 ? null : Math.max(...times) - due;
}

function lastFinishedUpdate(events: readonly RecordedEvent[], due: number): number | null {
  const times = events
    .filter((e) => e.event.type === 'UPDATE' && e.event.update?.status.state === 'TASK_FINISHED')
    .map((e) => e.at);
  return times.length === 0 ? null : Math.max(...times) - due;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function percentiles(values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
  };
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** Polls `check` every POLL_MS until it holds (returns the time it was seen) or `deadline`. */
async function pollUntil(
  deadline: number,
  check: () => boolean | Promise<boolean>,
): Promise<number | null> {
  for (;;) {
    if (await check()) return Date.now();
    if (Date.now() >= deadline) return null;
    await sleep(POLL_MS);
  }
}

async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}
