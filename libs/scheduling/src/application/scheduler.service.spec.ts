import { Logger } from '@nestjs/common';
import {
  dueAt,
  JobsError,
  jobKey,
  newJob,
  type Clock,
  type Fence,
  type Job,
  type JobBatchChange,
  type JobBatchResult,
  type JobChange,
  type JobId,
  type JobRepository,
  type JobsSettings,
  type JobSpec,
  type OrphanedRun,
  type TaskOutcome,
  type TaskRecord,
} from '@rhythm/jobs';
import { DEFAULT_SCHEDULING_SETTINGS, type SchedulingSettings } from '../scheduling.settings';
import type { LeaderElection, LeadershipTerm } from './ports/leader-election.port';
import type { RunLaunch, Runner, RunnerRegistry, TaskStatusUpdate } from './ports/runner.port';
import { NO_SCHEDULER_METRICS, type SchedulerMetrics } from './ports/scheduler-metrics.port';
import { SchedulerService, UPDATE_BATCH_MAX, UPDATE_FLUSH_MS } from './scheduler.service';

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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Jobs created half a minute before NOW are due at 00:01:00, just before it. */
const CREATED = new Date('2026-01-01T00:00:30Z');
const NOW = new Date('2026-01-01T00:01:00.500Z');
const EPOCH = 4;

/** One call of `updateMany`: what it was asked, and the runtime states it wrote. */
interface BatchCall {
  readonly jobIds: readonly string[];
  readonly fence: Fence | undefined;
  readonly written: ReadonlyArray<string | null>;
}

/**
 * An in-memory store with the repository's semantics that records every batch and can be told to
 * fail one: `failNext` answers the next call in place of the store (an error is thrown, results
 * are returned as they are, with the store untouched).
 */
class RecordingStore implements JobRepository {
  readonly jobs = new Map<string, Job>();
  readonly history = new Map<string, TaskRecord[]>();
  readonly calls: BatchCall[] = [];
  singleUpdates = 0;
  /** The most updateMany calls seen under way at once. */
  maxInFlight = 0;
  private inFlight = 0;
  writeDelayMs = 0;
  failNext: Array<(changes: readonly JobBatchChange[]) => JobBatchResult[] | Error | null> = [];

  async create(job: Job): Promise<void> {
    this.jobs.set(jobKey(job.jobId), job);
  }

  async get(jobId: JobId): Promise<Job | null> {
    return this.jobs.get(jobKey(jobId)) ?? null;
  }

  async list(): Promise<Job[]> {
    return [...this.jobs.values()];
  }

  async update(jobId: JobId, change: (job: Job) => JobChange | null, fence?: Fence): Promise<Job> {
    this.singleUpdates++;
    const [result] = await this.updateMany([{ jobId, change }], fence);
    if (result.status === 'updated' || result.status === 'unchanged') return result.job;
    throw result.status === 'failed' ? result.error : JobsError.notFound();
  }

  async updateMany(changes: readonly JobBatchChange[], fence?: Fence): Promise<JobBatchResult[]> {
    const written: Array<string | null> = [];
    this.calls.push({ jobIds: changes.map((c) => jobKey(c.jobId)), fence, written });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await Promise.resolve(); // a store answers later, never synchronously
    if (this.writeDelayMs > 0) await sleep(this.writeDelayMs);
    this.inFlight--;
    const failure = this.failNext.shift()?.(changes);
    if (failure instanceof Error) throw failure;
    if (failure) return failure;
    return changes.map(({ jobId, change }) => {
      const key = jobKey(jobId);
      const current = this.jobs.get(key);
      if (!current) return { status: 'not-found' };
      const proposed = change(current);
      if (!proposed) {
        written.push(null);
        return { status: 'unchanged', job: current };
      }
      const job: Job = {
        ...proposed.job,
        runtime: { ...proposed.job.runtime, rev: current.runtime.rev + 1 },
      };
      this.jobs.set(key, job);
      this.history.set(key, [...(this.history.get(key) ?? []), ...(proposed.history ?? [])]);
      written.push(job.runtime.state);
      return { status: 'updated', job };
    });
  }

  async delete(jobId: JobId): Promise<boolean> {
    const key = jobKey(jobId);
    const run = this.jobs.get(key)?.runtime.run;
    if (run) this.orphans.set(run.taskId, run.runner);
    return this.jobs.delete(key);
  }

  readonly orphans = new Map<string, string>();

  async listOrphanedRuns(): Promise<OrphanedRun[]> {
    return [...this.orphans].map(([taskId, runner]) => ({ taskId, runner }));
  }

  async forgetOrphanedRuns(taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) this.orphans.delete(taskId);
  }

  /** What each look at the due index asked for and got. */
  readonly looks: Array<{ readonly limit: number; readonly inFlight: number }> = [];

  async listDue(now: Date, limit: number): Promise<JobId[]> {
    this.looks.push({ limit, inFlight: this.inFlight });
    return [...this.jobs.values()]
      .filter((job) => (dueAt(job.runtime)?.getTime() ?? Infinity) <= now.getTime())
      .slice(0, limit)
      .map((job) => job.jobId);
  }

  async nextDueAt(): Promise<Date | null> {
    const times = [...this.jobs.values()].map((job) => dueAt(job.runtime)?.getTime() ?? Infinity);
    const next = Math.min(...times);
    return Number.isFinite(next) ? new Date(next) : null;
  }

  async listInFlight(): Promise<Job[]> {
    return [...this.jobs.values()].filter((job) => job.runtime.run !== null);
  }

  /** Batches of the due loop (they carry jobs still Idle) and of status updates. */
  get dueCalls(): BatchCall[] {
    return this.calls.filter((call) => call.written.every((state) => state === 'Staging'));
  }
}

class FakeRunner implements Runner {
  readonly kind = 'fake';
  readonly launched: RunLaunch[] = [];
  failLaunches = false;
  private listener: ((update: TaskStatusUpdate) => void) | null = null;

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  launchDelayMs = 0;

  async launch(run: RunLaunch): Promise<void> {
    if (this.launchDelayMs > 0) await sleep(this.launchDelayMs);
    if (this.failLaunches) throw new Error('no capacity');
    this.launched.push(run);
  }

  readonly killed: string[] = [];
  failKills = 0;

  async kill(taskId: string): Promise<void> {
    if (this.failKills > 0) {
      this.failKills--;
      throw new Error('agent unreachable');
    }
    this.killed.push(taskId);
  }

  /** As real runners do: a task it was never given is lost. */
  async reconcile(taskIds: readonly string[]): Promise<void> {
    const known = new Set(this.launched.map((run) => run.taskId));
    for (const taskId of taskIds) if (!known.has(taskId)) this.report(taskId, 'Lost');
  }

  async readLogs(): Promise<null> {
    return null;
  }

  report(taskId: string, state: TaskStatusUpdate['state']): void {
    this.listener?.({ taskId, state, at: NOW, exitCode: state === 'Finished' ? 0 : null });
  }
}

class FakeElection implements LeaderElection {
  private readonly controller = new AbortController();
  private listener: ((term: LeadershipTerm) => void) | null = null;
  private leading = false;

  isLeader(): boolean {
    return this.leading;
  }

  // A new view object per call, as the sole-instance election hands out.
  currentTerm(): LeadershipTerm | null {
    return this.leading ? { epoch: EPOCH, signal: this.controller.signal } : null;
  }

  onTerm(listener: (term: LeadershipTerm) => void): void {
    this.listener = listener;
  }

  async start(): Promise<void> {
    this.leading = true;
    this.listener?.({ epoch: EPOCH, signal: this.controller.signal });
  }

  async stop(): Promise<void> {
    this.leading = false;
    this.controller.abort();
  }
}

interface Harness {
  readonly store: RecordingStore;
  readonly runner: FakeRunner;
  /** Outcomes the scheduler reported, once their write succeeded. */
  readonly ended: TaskOutcome[];
  readonly scheduler: SchedulerService;
}

let running: SchedulerService | null = null;

beforeAll(() => {
  Logger.overrideLogger(false); // refused writes are logged on purpose here
});

afterAll(() => {
  Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
});

afterEach(async () => {
  await running?.onApplicationShutdown();
  running = null;
});

function harness(jobs: number, settings: Partial<SchedulingSettings> = {}): Harness {
  const store = new RecordingStore();
  for (let i = 0; i < jobs; i++) {
    const job = newJob({ group: 'g', project: 'p', id: `j${i}` }, SPEC, CREATED, 'UTC');
    store.jobs.set(jobKey(job.jobId), job);
  }
  const runner = new FakeRunner();
  const registry: RunnerRegistry = {
    commandRunner: () => runner,
    get: (kind) => (kind === runner.kind ? runner : undefined),
    all: () => [runner],
    validate: (_kind, options) => ({ ok: true, options }),
  };
  const ended: TaskOutcome[] = [];
  const metrics: SchedulerMetrics = {
    ...NO_SCHEDULER_METRICS,
    ended: (outcome) => ended.push(outcome),
  };
  const clock: Clock = { now: () => NOW };
  const jobsSettings = { defaultTimezone: 'UTC' } as JobsSettings;
  const scheduler = new SchedulerService(
    store,
    new FakeElection(),
    registry,
    clock,
    jobsSettings,
    { ...DEFAULT_SCHEDULING_SETTINGS, pollIntervalMs: 10, ...settings },
    metrics,
  );
  running = scheduler;
  return { store, runner, ended, scheduler };
}

async function until(what: string, check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('SchedulerService: due jobs in batches', () => {
  it('decides and commits a batch of due jobs in one fenced write, then launches each once', async () => {
    const { store, runner, scheduler } = harness(50);
    await scheduler.onApplicationBootstrap();
    await until('50 launches', () => runner.launched.length === 50);
    await sleep(30);
    expect(store.dueCalls).toHaveLength(1);
    expect(store.dueCalls[0]).toMatchObject({ fence: { epoch: EPOCH } });
    expect(store.dueCalls[0].jobIds).toHaveLength(50);
    expect(store.singleUpdates).toBe(0);
    expect(new Set(runner.launched.map((run) => jobKey(run.jobId))).size).toBe(50);
    for (const run of runner.launched) {
      expect(store.jobs.get(jobKey(run.jobId))?.runtime.run).toMatchObject({
        taskId: run.taskId,
        scheduledAt: new Date('2026-01-01T00:01:00Z'),
      });
    }
  });

  it('commits a large batch in parts, several at once, and launches every part', async () => {
    const { store, runner, scheduler } = harness(400, { batchSize: 400 });
    await scheduler.onApplicationBootstrap();
    await until('400 launches', () => runner.launched.length === 400);
    expect(store.dueCalls.map((call) => call.jobIds.length)).toEqual([100, 100, 100, 100]);
    expect(new Set(store.dueCalls.flatMap((call) => call.jobIds)).size).toBe(400);
    expect(store.maxInFlight).toBe(4);
  });

  it('lists the next batch while the one before is being written, skipping its jobs', async () => {
    const { store, runner, scheduler } = harness(30, { batchSize: 10 });
    store.writeDelayMs = 20;
    await scheduler.onApplicationBootstrap();
    await until('30 launches', () => runner.launched.length === 30);
    // The second and third looks happen with a batch still being written, and ask for its jobs
    // more so that a full batch of others remains.
    expect(store.looks.slice(0, 3)).toEqual([
      { limit: 10, inFlight: 0 },
      { limit: 20, inFlight: 1 },
      { limit: 20, inFlight: 1 },
    ]);
    expect(store.maxInFlight).toBe(2);
    const written = store.calls.flatMap((call) => call.jobIds);
    expect(written).toHaveLength(30);
    expect(new Set(written).size).toBe(30);
  });

  it('reconciles only when no committed run is still waiting for its launch', async () => {
    const { runner, scheduler, ended } = harness(30, { batchSize: 10, reconcileIntervalMs: 0 });
    runner.launchDelayMs = 15;
    await scheduler.onApplicationBootstrap();
    await until('30 launches', () => runner.launched.length === 30);
    await sleep(50);
    expect(ended).toEqual([]); // a reconcile during a launch would have reported the run Lost
  });

  it('takes due jobs batchSize at a time', async () => {
    const { store, runner, scheduler } = harness(25, { batchSize: 10 });
    await scheduler.onApplicationBootstrap();
    await until('25 launches', () => runner.launched.length === 25);
    expect(store.dueCalls.map((call) => call.jobIds.length)).toEqual([10, 10, 5]);
  });

  it('launches nothing of a batch whose write is refused, and leaves the jobs due', async () => {
    const { store, runner, scheduler } = harness(5);
    store.failNext.push(() => JobsError.staleFence(EPOCH));
    store.failNext.push(() => JobsError.storeUnavailable(new Error('down')));
    await scheduler.onApplicationBootstrap();
    await until('three batch writes', () => store.calls.length >= 3);
    await until('5 launches', () => runner.launched.length === 5);
    expect(store.calls.slice(0, 3).map((call) => call.jobIds.length)).toEqual([5, 5, 5]);
    expect(store.calls[0].written).toEqual([]);
    expect(store.calls[1].written).toEqual([]);
  });

  it('launches the committed jobs of a batch whose other writes failed, and only them', async () => {
    const { store, runner, scheduler } = harness(3);
    // j1's write fails after the others were written: its run was never claimed.
    store.failNext.push((changes) =>
      changes.map(({ jobId, change }) => {
        const key = jobKey(jobId);
        if (key === 'g/p/j1') {
          return { status: 'failed', error: JobsError.storeUnavailable(new Error('lost')) };
        }
        const current = store.jobs.get(key) as Job;
        const job = (change(current) as JobChange).job;
        store.jobs.set(key, job);
        return { status: 'updated', job };
      }),
    );
    await scheduler.onApplicationBootstrap();
    await until('3 launches', () => runner.launched.length === 3);
    const order = runner.launched.map((run) => jobKey(run.jobId));
    expect(order.slice(0, 2).sort()).toEqual(['g/p/j0', 'g/p/j2']);
    expect(order[2]).toBe('g/p/j1'); // claimed by the next batch
    expect(store.calls[1].jobIds).toEqual(['g/p/j1']);
  });

  it('records a launch the runner refused as failed, through a batched update', async () => {
    const { store, runner, scheduler, ended } = harness(3);
    runner.failLaunches = true;
    await scheduler.onApplicationBootstrap();
    await until('3 failures', () => ended.length === 3);
    for (const key of ['g/p/j0', 'g/p/j1', 'g/p/j2']) {
      expect(store.jobs.get(key)?.runtime).toMatchObject({ state: 'Failed', run: null });
      expect(store.history.get(key)).toEqual([
        expect.objectContaining({ reason: 'LAUNCH_FAILED', state: 'Failed' }),
      ]);
    }
    const updateCalls = store.calls.filter((call) => call.written.includes('Failed'));
    expect(updateCalls).toHaveLength(1);
  });
});

describe('SchedulerService: status updates coalesced', () => {
  async function launched(jobs: number): Promise<Harness> {
    const h = harness(jobs);
    await h.scheduler.onApplicationBootstrap();
    await until(`${jobs} launches`, () => h.runner.launched.length === jobs);
    return h;
  }

  it('writes Running and Finished of many tasks, arriving together, in one batch, one change per job', async () => {
    const { store, runner, ended } = await launched(20);
    const before = store.calls.length;
    for (const run of runner.launched) {
      runner.report(run.taskId, 'Running');
      runner.report(run.taskId, 'Finished');
    }
    await until('20 ends', () => ended.length === 20);
    const writes = store.calls.slice(before);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({ fence: { epoch: EPOCH } });
    expect(writes[0].jobIds).toHaveLength(20);
    expect(writes[0].written.every((state) => state === 'Idle')).toBe(true);
    expect(ended).toEqual(Array.from({ length: 20 }, () => 'Finished'));
    for (const run of runner.launched) {
      expect(store.history.get(jobKey(run.jobId))).toEqual([
        expect.objectContaining({ taskId: run.taskId, state: 'Finished', exitCode: 0 }),
      ]);
    }
  });

  it(`waits ${UPDATE_FLUSH_MS} ms for more updates, but writes a full batch of ${UPDATE_BATCH_MAX} at once`, async () => {
    const { store, runner } = await launched(1);
    const before = store.calls.length;
    runner.report(runner.launched[0].taskId, 'Running');
    await Promise.resolve();
    expect(store.calls.length).toBe(before);
    await until('the delayed write', () => store.calls.length === before + 1);
    await sleep(20); // and its end
    // Updates of tasks whose jobs are gone: nothing to write, but a full batch goes at once.
    for (let i = 0; i < UPDATE_BATCH_MAX; i++) runner.report(`g:p:gone${i}:t`, 'Finished');
    await Promise.resolve();
    expect(store.calls.length).toBe(before + 2);
    expect(store.calls[before + 1].jobIds).toHaveLength(UPDATE_BATCH_MAX);
  });

  it('retries a batch while the store is unavailable; later updates wait for it, in order', async () => {
    const { store, runner, ended } = await launched(2);
    const [first, second] = runner.launched;
    const before = store.calls.length;
    const down = () => JobsError.storeUnavailable(new Error('down'));
    store.failNext.push(down, down);
    runner.report(first.taskId, 'Running');
    await until('a failed write', () => store.calls.length === before + 1);
    runner.report(first.taskId, 'Finished');
    runner.report(second.taskId, 'Finished');
    await until('2 ends', () => ended.length === 2);
    const writes = store.calls.slice(before);
    expect(writes.map((call) => call.jobIds)).toEqual([
      ['g/p/j0'],
      ['g/p/j0'],
      ['g/p/j0'],
      ['g/p/j0', 'g/p/j1'],
    ]);
    expect(writes.map((call) => call.written)).toEqual([[], [], ['Running'], ['Idle', 'Idle']]);
  });

  it('retries only the jobs of a batch whose write failed', async () => {
    const { store, runner, ended } = await launched(3);
    const before = store.calls.length;
    store.failNext.push((changes) =>
      changes.map(({ jobId, change }) => {
        const key = jobKey(jobId);
        if (key === 'g/p/j2') {
          return { status: 'failed', error: JobsError.storeUnavailable(new Error('lost')) };
        }
        const job = (change(store.jobs.get(key) as Job) as JobChange).job;
        store.jobs.set(key, job);
        return { status: 'updated', job };
      }),
    );
    for (const run of runner.launched) runner.report(run.taskId, 'Finished');
    await until('3 ends', () => ended.length === 3);
    expect(store.calls.slice(before).map((call) => call.jobIds.length)).toEqual([3, 1]);
    expect(store.calls[before + 1].jobIds).toEqual(['g/p/j2']);
  });

  it('gives up on updates a newer term refuses, without retrying them', async () => {
    const { store, runner, ended } = await launched(1);
    const before = store.calls.length;
    store.failNext.push(() => JobsError.staleFence(EPOCH));
    runner.report(runner.launched[0].taskId, 'Finished');
    await until('the refused write', () => store.calls.length === before + 1);
    await sleep(150);
    expect(store.calls.length).toBe(before + 1);
    expect(ended).toEqual([]);
  });

  it('writes what is queued when the service stops', async () => {
    const { store, runner, scheduler, ended } = await launched(1);
    runner.report(runner.launched[0].taskId, 'Finished');
    await scheduler.onApplicationShutdown();
    running = null;
    expect(ended).toEqual(['Finished']);
    expect(store.jobs.get('g/p/j0')?.runtime.state).toBe('Idle');
  });
});

describe('SchedulerService: runs of deleted jobs', () => {
  it('kills the run of a job deleted while it ran, retrying a failed kill, and forgets it', async () => {
    const { store, runner, scheduler } = harness(1);
    runner.failKills = 1;
    await scheduler.onApplicationBootstrap();
    await until('the launch', () => runner.launched.length === 1);
    const [{ taskId, jobId }] = runner.launched;
    await until('the run committed', () => store.jobs.get(jobKey(jobId))?.runtime.run !== null);
    expect(await store.delete(jobId)).toBe(true);
    await until('the kill', () => runner.killed.length === 1);
    expect(runner.killed).toEqual([taskId]);
    expect(runner.failKills).toBe(0); // the first kill failed and was sent again
    await until('the orphan forgotten', () => store.orphans.size === 0);
    await sleep(30);
    expect(runner.killed).toEqual([taskId]);
    // Its end, reported afterwards, finds no job and changes nothing.
    runner.report(taskId, 'Killed');
    await sleep(30);
    expect(store.jobs.size).toBe(0);
  });

  it('forgets the run of a deleted job whose runner this server does not have', async () => {
    const { store, runner, scheduler } = harness(0);
    store.orphans.set('task-x', 'gone-runner');
    await scheduler.onApplicationBootstrap();
    await until('the orphan forgotten', () => store.orphans.size === 0);
    expect(runner.killed).toEqual([]);
  });
});
