import type { JobRepository } from '../application/ports/job-repository.port';
import type { TaskHistoryRepository } from '../application/ports/task-history.port';
import { applyJobPatch } from '../domain/job';
import { JobsErrorCode } from '../domain/jobs.errors';
import { sampleJob, sampleTask } from './job-fixtures';

export interface JobStoreUnderTest {
  readonly jobs: JobRepository;
  readonly tasks: TaskHistoryRepository;
}

export interface JobStoreHarness {
  /** A fresh, empty store. */
  open(): Promise<JobStoreUnderTest>;
  /** The same data reopened, as after a restart (flushes and closes the current instance). */
  reopen(): Promise<JobStoreUnderTest>;
  close(): Promise<void>;
}

/**
 * The behaviour every job-store adapter must show. Each adapter's spec calls this with a harness
 * that opens the real backend (a real redis-server, a real data directory).
 */
export function describeJobStoreContract(name: string, harness: () => JobStoreHarness): void {
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
      const keys = async (filter: { group?: string; project?: string }) =>
        (await store.jobs.list(filter)).map(
          (j) => `${j.jobId.group}/${j.jobId.project}/${j.jobId.id}`,
        );
      expect(await keys({})).toEqual(['a/y/1', 'ab/x/1', 'b/x/1', 'b/x/2', 'b/xy/1']);
      expect(await keys({ group: 'a' })).toEqual(['a/y/1']);
      expect(await keys({ group: 'b' })).toEqual(['b/x/1', 'b/x/2', 'b/xy/1']);
      expect(await keys({ group: 'b', project: 'x' })).toEqual(['b/x/1', 'b/x/2']);
      expect(await keys({ group: 'c' })).toEqual([]);
    });

    it('updates the spec and keeps the runtime', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      const updated = await store.jobs.updateSpec(job.jobId, (j) =>
        applyJobPatch(j, { cpus: 2, env: {} }),
      );
      expect(updated).toMatchObject({ cpus: 2, env: {}, runtime: job.runtime });
      expect(await store.jobs.get(job.jobId)).toEqual(updated);
    });

    it('applies concurrent updates without losing any of them', async () => {
      const job = sampleJob('g', 'p', 'a', { labels: {} });
      await store.jobs.create(job);
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.jobs.updateSpec(job.jobId, (j) => ({
            ...j,
            labels: { ...j.labels, [`k${i}`]: `${i}` },
          })),
        ),
      );
      expect(Object.keys((await store.jobs.get(job.jobId))?.labels ?? {})).toHaveLength(10);
    });

    it('refuses to update a missing job', async () => {
      await expect(
        store.jobs.updateSpec({ group: 'g', project: 'p', id: 'nope' }, (j) => j),
      ).rejects.toMatchObject({ code: JobsErrorCode.JOB_NOT_FOUND });
    });

    it('deletes a job with its task history and queued run', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      await store.tasks.append(job.jobId, sampleTask('t1', '2026-01-01T00:00:00Z'));
      await store.jobs.enqueueRun(job.jobId, new Date());
      expect(await store.jobs.delete(job.jobId)).toBe(true);
      expect(await store.jobs.get(job.jobId)).toBeNull();
      expect(await store.jobs.list({})).toEqual([]);
      expect(await store.tasks.list(job.jobId)).toEqual([]);
      expect(await store.jobs.listQueuedRuns()).toEqual([]);
      expect(await store.jobs.delete(job.jobId)).toBe(false);
    });

    it('queues a run once and refuses to queue for a missing job', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      const at = new Date('2026-01-01T00:00:00.000Z');
      expect(await store.jobs.enqueueRun(job.jobId, at)).toBe(true);
      expect(await store.jobs.enqueueRun(job.jobId, new Date())).toBe(false);
      expect(await store.jobs.listQueuedRuns()).toEqual([{ jobId: job.jobId, requestedAt: at }]);
      await expect(
        store.jobs.enqueueRun({ group: 'g', project: 'p', id: 'nope' }, at),
      ).rejects.toMatchObject({ code: JobsErrorCode.JOB_NOT_FOUND });
    });

    it('keeps task records oldest first, per job', async () => {
      const a = sampleJob('g', 'p', 'a');
      const b = sampleJob('g', 'p', 'b');
      await store.jobs.create(a);
      await store.jobs.create(b);
      await store.tasks.append(a.jobId, sampleTask('t2', '2026-01-01T00:02:00Z', 'failed'));
      await store.tasks.append(a.jobId, sampleTask('t1', '2026-01-01T00:01:00Z'));
      await store.tasks.append(b.jobId, sampleTask('t3', '2026-01-01T00:03:00Z'));
      expect(await store.tasks.list(a.jobId)).toEqual([
        sampleTask('t1', '2026-01-01T00:01:00Z'),
        sampleTask('t2', '2026-01-01T00:02:00Z', 'failed'),
      ]);
      expect((await store.tasks.list(b.jobId)).map((t) => t.taskId)).toEqual(['t3']);
    });

    it('keeps two records that end in the same millisecond', async () => {
      const a = sampleJob('g', 'p', 'a');
      await store.jobs.create(a);
      await store.tasks.append(a.jobId, sampleTask('', '2026-01-01T00:01:00Z', 'first'));
      await store.tasks.append(a.jobId, sampleTask('', '2026-01-01T00:01:00Z', 'second'));
      expect((await store.tasks.list(a.jobId)).map((t) => t.message).sort()).toEqual([
        'first',
        'second',
      ]);
    });

    it('keeps everything across a restart', async () => {
      const job = sampleJob('g', 'p', 'a');
      await store.jobs.create(job);
      await store.jobs.create(sampleJob('g', 'p', 'gone'));
      await store.jobs.updateSpec(job.jobId, (j) => applyJobPatch(j, { mem: 256 }));
      await store.jobs.delete({ group: 'g', project: 'p', id: 'gone' });
      await store.tasks.append(job.jobId, sampleTask('t1', '2026-01-01T00:01:00Z'));
      await store.jobs.enqueueRun(job.jobId, new Date('2026-01-01T00:00:00Z'));
      store = await h.reopen();
      expect((await store.jobs.list({})).map((j) => [j.jobId.id, j.mem])).toEqual([['a', 256]]);
      expect(await store.tasks.list(job.jobId)).toHaveLength(1);
      expect(await store.jobs.listQueuedRuns()).toHaveLength(1);
    });
  });
}
