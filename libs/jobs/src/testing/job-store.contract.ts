import type {
  Fence,
  JobBatchResult,
  JobRepository,
} from '../application/ports/job-repository.port';
import type { SchedulerStateRepository } from '../application/ports/scheduler-state.port';
import type {
  HistoryRetention,
  TaskHistoryRepository,
} from '../application/ports/task-history.port';
import { applyJobPatch, type ActiveRun, type Job } from '../domain/job';
import type { JobId } from '../domain/job-id';
import { JobsErrorCode } from '../domain/jobs.errors';
import { sampleJob, sampleTask, withRuntime } from './job-fixtures';

export interface JobStoreUnderTest {
  readonly jobs: JobRepository;
  readonly tasks: TaskHistoryRepository;
  readonly state: SchedulerStateRepository;
}

/** The retention every harness opens its store with, small enough to test. */
export const CONTRACT_RETENTION: HistoryRetention = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxPerJob: 5,
};

export interface JobStoreHarness {
  /** A fresh, empty store with CONTRACT_RETENTION. */
  open(): Promise<JobStoreUnderTest>;
  /** The same data reopened, as after a restart (flushes and closes the current instance). */
  reopen(): Promise<JobStoreUnderTest>;
  close(): Promise<void>;
  /**
   * Begins a newer leadership term in the open store and returns a fence of the term before it
   * and one of the new term. Absent for stores only one process can write, which need no fencing
   * (their fenced cases check that any fence is taken instead).
   */
  newerTerm?(): Promise<{ readonly stale: Fence; readonly current: Fence }>;
}

const ids = (jobs: readonly Job[]) =>
  jobs.map((j) => `${j.jobId.group}/${j.jobId.project}/${j.jobId.id}`);
const paths = (jobIds: readonly JobId[]) => jobIds.map((j) => `${j.group}/${j.project}/${j.id}`);
const at = (iso: string) => new Date(iso);
const jobIdOf = (id: string): JobId => ({ group: 'g', project: 'p', id });
const statuses = (results: readonly JobBatchResult[]) => results.map((r) => r.status);
const recent = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString();
const RUN: ActiveRun = {
  scheduledAt: at('2026-01-01T00:01:00Z'),
  trigger: 'cron',
  taskId: 't',
  attempt: 1,
  runner: 'local',
  launchedAt: at('2026-01-01T00:01:01Z'),
  deadline: null,
  killReason: null,
};

/**
 * The behaviour every job-store adapter must show. Each adapter's spec calls this with a harness
 * that opens the real backend (a real redis-server, a real data directory).
 */
export function describeJobStoreContract(name: string, harness: () => JobStoreHarness): void {
  const fenced = harness().newerTerm !== undefined;
  describe(`${name} (job store contract)`, () => {
    let h: JobStoreHarness;
    let store: JobStoreUnderTest;

    beforeEach(async () => {
      h = harness();
      store = await h.open();
    });

    afterEach(async () => {
      await h.close();
    });

    it('creates and reads back a job with its initial runtime', async () => {
      const job = sampleJob('g', 'p', 'a', { env: { Mixed_Case: 'v' }, labels: { l: '1' } });
      await store.jobs.create(job);
      expect(await store.jobs.get(job.jobId)).toEqual(job);
      expect(job.runtime.nextFireAt).toEqual(at('2026-01-01T00:01:00Z'));
    });

    it('keeps the optional policies of a spec', async () => {
      const job = sampleJob('g', 'p', 'a', {
        schedule: { type: 'Cron', cron: '0 2 * * *', timezone: 'Europe/Warsaw' },
        missedRuns: { policy: 'all', startingDeadlineSeconds: 600, maxCatchUp: 3 },
        retryBackoff: { backoffSeconds: 1, maxBackoffSeconds: 8 },
        timeoutSeconds: 30,
      });
      await store.jobs.create(job);
      expect(await store.jobs.get(job.jobId)).toEqual(job);
    });

    it('returns null for a missing job', async () => {
      expect(await store.jobs.get({ group: 'g', project: 'p', id: 'nope' })).toBeNull();
    });

    it('refuses to create a job twice, keeping the first', async () => {
      await store.jobs.create(sampleJob('g', 'p', 'a', { cmd: 'first' }));
      await expect(
        store.jobs.create(sampleJob('g', 'p', 'a', { cmd: 'second' })),
      ).rejects.toMatchObject({
        code: JobsErrorCode.JOB_ALREADY_EXISTS,
      });
      expect((await store.jobs.get({ group: 'g', project: 'p', id: 'a' }))?.cmd).toBe('first');
    });

    it('lets exactly one of many concurrent creates of one job win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.jobs.create(sampleJob('g', 'p', 'race', { cmd: `${i}` })),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(19);
    });

    it('lists all jobs, a group or a project, ordered by group, project and id', async () => {
      for (const [g, p, id] of [
        ['b', 'x', '2'],
        ['a', 'y', '1'],
        ['b', 'x', '1'],
        ['ab', 'x', '1'],
        ['b', 'xy', '1'],
      ]) {
        await store.jobs.create(sampleJob(g, p, id));
      }
      expect(ids(await store.jobs.list({}))).toEqual([
        'a/y/1',
        'ab/x/1',
        'b/x/1',
        'b/x/2',
        'b/xy/1',
      ]);
      expect(ids(await store.jobs.list({ group: 'a' }))).toEqual(['a/y/1']);
      expect(ids(await store.jobs.list({ group: 'b' }))).toEqual(['b/x/1', 'b/x/2', 'b/xy/1']);
      expect(ids(await store.jobs.list({ group: 'b', project: 'x' }))).toEqual(['b/x/1', 'b/x/2']);
      expect(ids(await store.jobs.list({ group: 'c' }))).toEqual([]);
    });

    describe('update', () => {
      it('replaces spec and runtime together and advances the revision', async () => {
        const job = sampleJob('g', 'p', 'a');
        await store.jobs.create(job);
        const updated = await store.jobs.update(job.jobId, (j) => ({
          job: withRuntime(applyJobPatch(j, { cpus: 2, env: {} }), {
            state: 'Staging',
            currentTaskId: 't1',
          }),
        }));
        expect(updated).toMatchObject({
          cpus: 2,
          env: {},
          runtime: { state: 'Staging', currentTaskId: 't1', rev: 1 },
        });
        expect(await store.jobs.get(job.jobId)).toEqual(updated);
      });

      it('changes nothing when the change is null', async () => {
        const job = sampleJob('g', 'p', 'a');
        await store.jobs.create(job);
        expect(await store.jobs.update(job.jobId, () => null)).toEqual(job);
        expect((await store.jobs.get(job.jobId))?.runtime.rev).toBe(0);
      });

      it('applies concurrent changes without losing any of them', async () => {
        const job = sampleJob('g', 'p', 'a', { labels: {} });
        await store.jobs.create(job);
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.jobs.update(job.jobId, (j) => ({
              job: { ...j, labels: { ...j.labels, [`k${i}`]: `${i}` } },
            })),
          ),
        );
        const stored = await store.jobs.get(job.jobId);
        expect(Object.keys(stored?.labels ?? {})).toHaveLength(10);
        expect(stored?.runtime.rev).toBe(10);
      });

      it('refuses to update a missing job', async () => {
        await expect(
          store.jobs.update({ group: 'g', project: 'p', id: 'nope' }, (j) => ({ job: j })),
        ).rejects.toMatchObject({ code: JobsErrorCode.JOB_NOT_FOUND });
      });

      it('appends the task records of a change, oldest first, per job', async () => {
        const a = sampleJob('g', 'p', 'a');
        const b = sampleJob('g', 'p', 'b');
        await store.jobs.create(a);
        await store.jobs.create(b);
        const recent = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
        const t1 = sampleTask('t1', recent(3));
        const t2 = sampleTask('t2', recent(2), 'failed');
        const t3 = sampleTask('t3', recent(1));
        await store.jobs.update(a.jobId, (j) => ({ job: j, history: [t2] }));
        await store.jobs.update(a.jobId, (j) => ({ job: j, history: [t1] }));
        await store.jobs.update(b.jobId, (j) => ({ job: j, history: [t3] }));
        expect(await store.tasks.list(a.jobId)).toEqual([t1, t2]);
        expect(await store.tasks.list(b.jobId)).toEqual([t3]);
        expect(await store.tasks.count(a.jobId)).toBe(2);
      });

      it('keeps two records that end in the same millisecond, in append order', async () => {
        const a = sampleJob('g', 'p', 'a');
        await store.jobs.create(a);
        const end = new Date(Date.now() - 1000).toISOString();
        await store.jobs.update(a.jobId, (j) => ({
          job: j,
          history: [sampleTask('', end, 'first'), sampleTask('', end, 'second')],
        }));
        expect((await store.tasks.list(a.jobId)).map((t) => t.message)).toEqual([
          'first',
          'second',
        ]);
      });

      it('keeps at most the retention count per job, dropping the oldest', async () => {
        const a = sampleJob('g', 'p', 'a');
        await store.jobs.create(a);
        for (let i = 0; i < 8; i++) {
          const task = sampleTask(`t${i}`, new Date(Date.now() - (10 - i) * 1000).toISOString());
          await store.jobs.update(a.jobId, (j) => ({ job: j, history: [task] }));
        }
        expect((await store.tasks.list(a.jobId)).map((t) => t.taskId)).toEqual([
          't3',
          't4',
          't5',
          't6',
          't7',
        ]);
      });

      it('drops records older than the retention age', async () => {
        const a = sampleJob('g', 'p', 'a');
        await store.jobs.create(a);
        const old = sampleTask(
          'old',
          new Date(Date.now() - CONTRACT_RETENTION.maxAgeMs - 60_000).toISOString(),
        );
        const fresh = sampleTask('fresh', new Date(Date.now() - 60_000).toISOString());
        await store.jobs.update(a.jobId, (j) => ({ job: j, history: [old, fresh] }));
        expect((await store.tasks.list(a.jobId)).map((t) => t.taskId)).toEqual(['fresh']);
        expect(await store.tasks.count(a.jobId)).toBe(1);
      });

      it('pages task records from the oldest', async () => {
        const a = sampleJob('g', 'p', 'a');
        await store.jobs.create(a);
        const tasks = [0, 1, 2, 3].map((i) =>
          sampleTask(`t${i}`, new Date(Date.now() - (10 - i) * 1000).toISOString()),
        );
        await store.jobs.update(a.jobId, (j) => ({ job: j, history: tasks }));
        const page = await store.tasks.list(a.jobId, { offset: 1, limit: 2 });
        expect(page.map((t) => t.taskId)).toEqual(['t1', 't2']);
        expect(await store.tasks.list(a.jobId, { offset: 4, limit: 2 })).toEqual([]);
      });
    });

    describe('updateMany', () => {
      it('applies each change on its own: updated, unchanged and missing jobs in one batch', async () => {
        for (const id of ['a', 'b', 'c']) await store.jobs.create(sampleJob('g', 'p', id));
        const record = sampleTask('t1', recent(5));
        const results = await store.jobs.updateMany([
          {
            jobId: jobIdOf('a'),
            change: (j) => ({ job: withRuntime(j, { state: 'Staging' }), history: [record] }),
          },
          { jobId: jobIdOf('b'), change: () => null },
          { jobId: jobIdOf('nope'), change: (j) => ({ job: j }) },
          { jobId: jobIdOf('c'), change: (j) => ({ job: applyJobPatch(j, { mem: 512 }) }) },
        ]);
        expect(statuses(results)).toEqual(['updated', 'unchanged', 'not-found', 'updated']);
        expect(results[0]).toMatchObject({ job: { runtime: { state: 'Staging', rev: 1 } } });
        expect(results[1]).toMatchObject({ job: { runtime: { state: 'Idle', rev: 0 } } });
        expect(results[3]).toMatchObject({ job: { mem: 512, runtime: { rev: 1 } } });
        // What each result reports is what is stored.
        for (const [result, id] of [
          [results[0], 'a'],
          [results[1], 'b'],
          [results[3], 'c'],
        ] as const) {
          expect(await store.jobs.get(jobIdOf(id))).toEqual('job' in result ? result.job : null);
        }
        expect(await store.tasks.list(jobIdOf('a'))).toEqual([record]);
        expect(await store.tasks.list(jobIdOf('c'))).toEqual([]);
        expect(await store.jobs.get(jobIdOf('nope'))).toBeNull();
      });

      it('resolves an empty batch to no results', async () => {
        expect(await store.jobs.updateMany([])).toEqual([]);
      });

      it('keeps the due index, the runs in flight and each job’s history with its retention', async () => {
        for (const id of ['a', 'b', 'c', 'd']) await store.jobs.create(sampleJob('g', 'p', id));
        await store.jobs.update(jobIdOf('d'), (j) => ({ job: withRuntime(j, { run: RUN }) }));
        const records = [7, 6, 5, 4, 3, 2, 1].map((s) => sampleTask(`t${s}`, recent(s)));
        await store.jobs.updateMany([
          { jobId: jobIdOf('a'), change: (j) => ({ job: withRuntime(j, { run: RUN }) }) },
          {
            jobId: jobIdOf('b'),
            change: (j) => ({
              job: withRuntime(j, { nextFireAt: at('2026-01-01T00:05:00Z') }),
              history: records.slice(0, 2),
            }),
          },
          {
            jobId: jobIdOf('c'),
            change: (j) => ({ job: withRuntime(j, { nextFireAt: null }), history: records }),
          },
          { jobId: jobIdOf('d'), change: (j) => ({ job: withRuntime(j, { run: null }) }) },
        ]);
        const check = async (): Promise<void> => {
          expect(paths(await store.jobs.listDue(at('2026-01-01T01:00:00Z'), 10))).toEqual([
            'g/p/d',
            'g/p/b',
          ]);
          expect(await store.jobs.nextDueAt()).toEqual(at('2026-01-01T00:01:00Z'));
          expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/a']);
          expect((await store.tasks.list(jobIdOf('b'))).map((t) => t.taskId)).toEqual(['t7', 't6']);
          // The retention keeps the newest CONTRACT_RETENTION.maxPerJob (5) records per job.
          expect((await store.tasks.list(jobIdOf('c'))).map((t) => t.taskId)).toEqual([
            't5',
            't4',
            't3',
            't2',
            't1',
          ]);
        };
        await check();
        store = await h.reopen();
        await check();
      });

      it('applies two changes of one job in a batch one after the other', async () => {
        await store.jobs.create(sampleJob('g', 'p', 'a', { labels: {} }));
        const label = (key: string) => (j: Job) => ({
          job: { ...j, labels: { ...j.labels, [key]: String(j.runtime.rev) } },
        });
        const results = await store.jobs.updateMany([
          { jobId: jobIdOf('a'), change: label('first') },
          { jobId: jobIdOf('a'), change: label('second') },
        ]);
        expect(statuses(results)).toEqual(['updated', 'updated']);
        expect(await store.jobs.get(jobIdOf('a'))).toMatchObject({
          labels: { first: '0', second: '1' },
          runtime: { rev: 2 },
        });
      });

      it('loses no change when batches and single updates race on the same jobs', async () => {
        for (const id of ['a', 'b']) {
          await store.jobs.create(sampleJob('g', 'p', id, { labels: {} }));
        }
        const label = (key: string) => (j: Job) => ({
          job: { ...j, labels: { ...j.labels, [key]: key } },
        });
        await Promise.all([
          ...Array.from({ length: 5 }, (_, i) =>
            store.jobs.updateMany([
              { jobId: jobIdOf('a'), change: label(`batch${i}`) },
              { jobId: jobIdOf('b'), change: label(`batch${i}`) },
            ]),
          ),
          ...Array.from({ length: 5 }, (_, i) =>
            store.jobs.update(jobIdOf('a'), label(`single${i}`)),
          ),
        ]);
        const a = await store.jobs.get(jobIdOf('a'));
        const b = await store.jobs.get(jobIdOf('b'));
        expect(Object.keys(a?.labels ?? {})).toHaveLength(10);
        expect(a?.runtime.rev).toBe(10);
        expect(Object.keys(b?.labels ?? {})).toHaveLength(5);
        expect(b?.runtime.rev).toBe(5);
      });

      // A store only one process can write has no older term to refuse: it takes any fence.
      const staleTermCase = fenced
        ? 'refuses a whole batch from a stale term and writes nothing of it'
        : 'writes a fenced batch, having no other writer whose term could be stale';
      it(staleTermCase, async () => {
        for (const id of ['a', 'b']) await store.jobs.create(sampleJob('g', 'p', id));
        const batch = ['a', 'b'].map((id) => ({
          jobId: jobIdOf(id),
          change: (j: Job) => ({
            job: withRuntime(j, { run: RUN }),
            history: [sampleTask(`t-${id}`, recent(1))],
          }),
        }));
        if (!h.newerTerm) {
          expect(statuses(await store.jobs.updateMany(batch, { epoch: 1 }))).toEqual([
            'updated',
            'updated',
          ]);
          expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/a', 'g/p/b']);
          return;
        }
        const terms = await h.newerTerm();
        await expect(store.jobs.updateMany(batch, terms.stale)).rejects.toMatchObject({
          code: JobsErrorCode.STALE_FENCE,
        });
        for (const id of ['a', 'b']) {
          expect((await store.jobs.get(jobIdOf(id)))?.runtime).toMatchObject({
            rev: 0,
            run: null,
          });
          expect(await store.tasks.list(jobIdOf(id))).toEqual([]);
        }
        expect(await store.jobs.listInFlight()).toEqual([]);
        expect(await store.jobs.nextDueAt()).toEqual(at('2026-01-01T00:01:00Z'));
        expect(statuses(await store.jobs.updateMany(batch, terms.current))).toEqual([
          'updated',
          'updated',
        ]);
        expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/a', 'g/p/b']);
      });
    });

    describe('due index', () => {
      it('lists jobs due at a time, soonest first, up to a limit', async () => {
        const later = sampleJob('g', 'p', 'later', {
          schedule: { type: 'Cron', cron: '5 0 * * *' },
        });
        const soon = sampleJob('g', 'p', 'soon');
        const never = withRuntime(sampleJob('g', 'p', 'never'), { nextFireAt: null });
        for (const job of [later, soon, never]) await store.jobs.create(job);
        expect(paths(await store.jobs.listDue(at('2026-01-01T00:00:59Z'), 10))).toEqual([]);
        expect(paths(await store.jobs.listDue(at('2026-01-01T00:01:00Z'), 10))).toEqual([
          'g/p/soon',
        ]);
        expect(paths(await store.jobs.listDue(at('2026-01-01T01:00:00Z'), 10))).toEqual([
          'g/p/soon',
          'g/p/later',
        ]);
        expect(paths(await store.jobs.listDue(at('2026-01-01T01:00:00Z'), 1))).toEqual([
          'g/p/soon',
        ]);
        expect(await store.jobs.nextDueAt()).toEqual(at('2026-01-01T00:01:00Z'));
      });

      it('follows every change of when a job is due', async () => {
        const job = sampleJob('g', 'p', 'a');
        await store.jobs.create(job);
        await store.jobs.update(job.jobId, (j) => ({
          job: withRuntime(j, { nextFireAt: at('2026-01-02T00:00:00Z') }),
        }));
        expect(await store.jobs.listDue(at('2026-01-01T12:00:00Z'), 10)).toEqual([]);
        expect(await store.jobs.nextDueAt()).toEqual(at('2026-01-02T00:00:00Z'));
        const running = {
          scheduledAt: at('2026-01-02T00:00:00Z'),
          trigger: 'cron' as const,
          taskId: 't',
          attempt: 1,
          runner: 'local',
          launchedAt: at('2026-01-02T00:00:01Z'),
          deadline: null,
          killReason: null,
        };
        await store.jobs.update(job.jobId, (j) => ({ job: withRuntime(j, { run: running }) }));
        expect(await store.jobs.nextDueAt()).toBeNull();
        await store.jobs.update(job.jobId, (j) => ({
          job: withRuntime(j, { run: { ...running, deadline: at('2026-01-02T00:10:00Z') } }),
        }));
        expect(paths(await store.jobs.listDue(at('2026-01-02T00:10:00Z'), 10))).toEqual(['g/p/a']);
      });
    });

    it('lists the jobs with a run in flight, following every change', async () => {
      const run = {
        scheduledAt: at('2026-01-01T00:01:00Z'),
        trigger: 'cron' as const,
        taskId: 't',
        attempt: 1,
        runner: 'local',
        launchedAt: at('2026-01-01T00:01:01Z'),
        deadline: null,
        killReason: null,
      };
      for (const id of ['a', 'b', 'c']) await store.jobs.create(sampleJob('g', 'p', id));
      expect(await store.jobs.listInFlight()).toEqual([]);
      await store.jobs.update({ group: 'g', project: 'p', id: 'c' }, (j) => ({
        job: withRuntime(j, { run }),
      }));
      await store.jobs.update({ group: 'g', project: 'p', id: 'a' }, (j) => ({
        job: withRuntime(j, { run }),
      }));
      expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/a', 'g/p/c']);
      await store.jobs.update({ group: 'g', project: 'p', id: 'a' }, (j) => ({
        job: withRuntime(j, { run: null }),
      }));
      await store.jobs.delete({ group: 'g', project: 'p', id: 'c' });
      expect(await store.jobs.listInFlight()).toEqual([]);
      await store.jobs.create(withRuntime(sampleJob('g', 'p', 'd'), { run }));
      expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/d']);
      store = await h.reopen();
      expect(ids(await store.jobs.listInFlight())).toEqual(['g/p/d']);
    });

    it('deletes a job with its task history and due entry', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      await store.jobs.update(job.jobId, (j) => ({
        job: j,
        history: [sampleTask('t1', new Date().toISOString())],
      }));
      expect(await store.jobs.delete(job.jobId)).toBe(true);
      expect(await store.jobs.get(job.jobId)).toBeNull();
      expect(await store.jobs.list({})).toEqual([]);
      expect(await store.tasks.list(job.jobId)).toEqual([]);
      expect(await store.jobs.listDue(at('2030-01-01T00:00:00Z'), 10)).toEqual([]);
      expect(await store.jobs.delete(job.jobId)).toBe(false);
    });

    it('keeps the run in flight of a deleted job as orphaned until it is forgotten', async () => {
      const running = (id: string, runner: string) =>
        withRuntime(sampleJob('g', 'p', id), { run: { ...RUN, taskId: `task-${id}`, runner } });
      await store.jobs.create(running('a', 'local'));
      await store.jobs.create(running('b', 'mesos'));
      await store.jobs.create(sampleJob('g', 'p', 'idle'));
      expect(await store.jobs.listOrphanedRuns()).toEqual([]);
      await store.jobs.delete(jobIdOf('idle'));
      await store.jobs.delete(jobIdOf('a'));
      await store.jobs.delete(jobIdOf('b'));
      expect(await store.jobs.delete(jobIdOf('b'))).toBe(false);
      expect(await store.jobs.listOrphanedRuns()).toEqual([
        { taskId: 'task-a', runner: 'local' },
        { taskId: 'task-b', runner: 'mesos' },
      ]);
      await store.jobs.forgetOrphanedRuns(['task-a', 'task-unknown']);
      expect(await store.jobs.listOrphanedRuns()).toEqual([{ taskId: 'task-b', runner: 'mesos' }]);
      await store.jobs.forgetOrphanedRuns(['task-b']);
      expect(await store.jobs.listOrphanedRuns()).toEqual([]);
    });

    it('keeps scheduler state across a restart, and removes a value set to null', async () => {
      expect(await store.state.get('mesos.frameworkId')).toBeNull();
      await store.state.set('mesos.frameworkId', 'f-1');
      await store.state.set('other', 'x');
      await store.state.set('other', null);
      store = await h.reopen();
      expect(await store.state.get('mesos.frameworkId')).toBe('f-1');
      expect(await store.state.get('other')).toBeNull();
    });

    it('keeps everything across a restart', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      await store.jobs.create(sampleJob('g', 'p', 'gone'));
      await store.jobs.update(job.jobId, (j) => ({
        job: applyJobPatch(j, { mem: 256 }),
        history: [sampleTask('t1', new Date().toISOString())],
      }));
      await store.jobs.delete({ group: 'g', project: 'p', id: 'gone' });
      store = await h.reopen();
      expect((await store.jobs.list({})).map((j) => [j.jobId.id, j.mem, j.runtime.rev])).toEqual([
        ['a', 256, 1],
      ]);
      expect(await store.tasks.list(job.jobId)).toHaveLength(1);
      expect(paths(await store.jobs.listDue(at('2026-01-01T00:01:00Z'), 10))).toEqual(['g/p/a']);
    });
  });
}
