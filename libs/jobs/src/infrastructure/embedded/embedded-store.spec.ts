import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JobRepository } from '../../application/ports/job-repository.port';
import { applyJobPatch, type Job } from '../../domain/job';
import { type JobId, jobKey } from '../../domain/job-id';
import { JobsErrorCode } from '../../domain/jobs.errors';
import { sampleJob, sampleTask, withRuntime } from '../../testing/job-fixtures';
import {
  CONTRACT_RETENTION,
  describeJobStoreContract,
  type JobStoreUnderTest,
} from '../../testing/job-store.contract';
import { EmbeddedJobRepository } from './embedded-job.repository';
import { EmbeddedSchedulerStateRepository } from './embedded-scheduler-state.repository';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store';
import { EmbeddedTaskHistoryRepository } from './embedded-task-history.repository';

const REPO_ROOT = path.resolve(__dirname, '../../../../..');
const FAR_FUTURE = new Date('2100-01-01T00:00:00Z');

function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-embedded-'));
}

function repositories(store: EmbeddedStore): JobStoreUnderTest & { store: EmbeddedStore } {
  return {
    store,
    jobs: new EmbeddedJobRepository(store),
    state: new EmbeddedSchedulerStateRepository(store),
    tasks: new EmbeddedTaskHistoryRepository(store),
  };
}

describeJobStoreContract('EmbeddedJobRepository', () => {
  let dir = '';
  let store: EmbeddedStore | null = null;
  const openStore = async (): Promise<JobStoreUnderTest> => {
    store = await EmbeddedStore.open(dir, { retention: CONTRACT_RETENTION });
    return repositories(store);
  };
  return {
    open: async () => {
      dir = makeTempDir();
      return openStore();
    },
    reopen: async () => {
      await store?.close();
      return openStore();
    },
    close: async () => {
      await store?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** A task record that ended `secondsAgo` before now, well within any retention age. */
const recentTask = (taskId: string, secondsAgo = 1) =>
  sampleTask(taskId, new Date(Date.now() - secondsAgo * 1000).toISOString());

/** Deterministic pseudo-random numbers (a linear congruential generator). */
function randoms(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state;
  };
}

const paths = (jobIds: readonly JobId[]) => jobIds.map(jobKey);

describe('EmbeddedStore', () => {
  const openStores: EmbeddedStore[] = [];
  const tempDirs: string[] = [];

  function tempDir(): string {
    const dir = makeTempDir();
    tempDirs.push(dir);
    return dir;
  }

  async function open(dir: string, options?: EmbeddedStoreOptions) {
    const store = await EmbeddedStore.open(dir, options);
    openStores.push(store);
    return repositories(store);
  }

  const lockFile = (dir: string) => path.join(dir, 'rhythm.lock');
  const journalFile = (dir: string) => path.join(dir, 'journal.log');
  const snapshotFile = (dir: string) => path.join(dir, 'snapshot.json');
  const journalLines = (dir: string) =>
    fs.readFileSync(journalFile(dir), 'utf8').split('\n').filter(Boolean);
  const ids = async (jobs: JobRepository) => (await jobs.list({})).map((j) => j.jobId.id);
  const dueView = async (jobs: JobRepository) => ({
    all: paths(await jobs.listDue(FAR_FUTURE, 100_000)),
    first: paths(await jobs.listDue(new Date('2026-01-01T06:00:00Z'), 3)),
    next: await jobs.nextDueAt(),
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    for (const store of openStores.splice(0)) await store.close();
    for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates a missing data directory and removes its lock on close', async () => {
    const dir = path.join(tempDir(), 'nested', 'data');
    const { store } = await open(dir);
    expect(fs.readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(process.pid));
    await store.close();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a second open of a directory while it is open, and allows it after close', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await expect(EmbeddedStore.open(dir)).rejects.toThrow(
      `Data directory ${fs.realpathSync(dir)} is already open in this process (pid ${process.pid})`,
    );
    await first.jobs.create(sampleJob('g', 'p', 'a'));
    await first.store.close();
    const second = await open(dir);
    expect(await ids(second.jobs)).toEqual(['a']);
  });

  it('takes over a lock file left by a dead process', async () => {
    const dir = tempDir();
    const { pid: deadPid } = spawnSync(process.execPath, ['-e', '']);
    fs.writeFileSync(lockFile(dir), `${deadPid}\n`);
    const { store } = await open(dir);
    expect(fs.readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(process.pid));
    await store.close();
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('keeps every acknowledged create and update when its process is killed', async () => {
    const root = tempDir();
    const dir = path.join(root, 'data');
    const writer = forkWriter(root, dir, 100);
    try {
      await waitForOutput(writer, 'wrote');
      await expect(EmbeddedStore.open(dir)).rejects.toThrow(
        `is in use by another Rhythm process (pid ${writer.pid}); stop it or choose another RHYTHM_DATA_DIR`,
      );
      const exited = once(writer, 'exit');
      writer.kill('SIGKILL');
      await exited;
    } finally {
      writer.kill('SIGKILL');
    }
    expect(fs.readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(writer.pid));

    const { jobs, tasks } = await open(dir);
    const expected = Array.from({ length: 100 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
    const stored = await jobs.list({});
    expect(stored.map((j) => j.jobId.id)).toEqual(expected);
    expect(stored.map((j) => [j.labels, j.runtime.rev])).toEqual(
      expected.map((_, i) => [{ n: `${i}` }, 1]),
    );
    for (const job of stored) {
      expect((await tasks.list(job.jobId)).map((t) => t.taskId)).toEqual([`t-${job.jobId.id}`]);
    }
    expect(await jobs.listDue(FAR_FUTURE, 1000)).toHaveLength(100);
    expect(fs.readFileSync(lockFile(dir), 'utf8').trim()).toBe(String(process.pid));
  }, 60_000);

  it('writes one JSON line with an increasing seq per mutation, sharing an fsync per tick', async () => {
    const dir = tempDir();
    const { jobs } = await open(dir);
    const datasync = jest.spyOn(await fileHandlePrototype(), 'datasync');
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => jobs.create(sampleJob('g', 'p', `${i}`))),
    );
    expect(datasync).toHaveBeenCalledTimes(1);
    const entries = journalLines(dir).map((line) => JSON.parse(line) as { seq: number });
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('journals an update with its runtime and task records, and the spec only when it changed', async () => {
    const dir = tempDir();
    const { jobs } = await open(dir);
    const job = sampleJob('g', 'p', 'a');
    await jobs.create(job);
    await jobs.update(job.jobId, (j) => ({
      job: applyJobPatch(j, { cpus: 2 }),
      history: [recentTask('t1', 2), recentTask('t2')],
    }));
    await jobs.update(job.jobId, (j) => ({ job: withRuntime(j, { state: 'Staging' }) }));
    await jobs.update(job.jobId, () => null);
    await jobs.delete(job.jobId);

    const entries = journalLines(dir).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries).toEqual([
      {
        seq: 1,
        op: 'create',
        key: 'g/p/a',
        spec: expect.any(String),
        runtime: expect.any(String),
      },
      {
        seq: 2,
        op: 'update',
        key: 'g/p/a',
        spec: expect.stringContaining('"cpus":2'),
        runtime: expect.stringContaining('"rev":1'),
        tasks: [expect.stringContaining('"t1"'), expect.stringContaining('"t2"')],
      },
      {
        seq: 3,
        op: 'update',
        key: 'g/p/a',
        runtime: expect.stringContaining('"state":"Staging"'),
        tasks: [],
      },
      { seq: 4, op: 'delete', key: 'g/p/a' },
    ]);
  });

  it('ignores a torn last journal line and keeps appending after the intact data', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.jobs.create(sampleJob('g', 'p', 'a'));
    await first.jobs.create(sampleJob('g', 'p', 'b'));
    await first.jobs.update({ group: 'g', project: 'p', id: 'a' }, (j) => ({
      job: j,
      history: [recentTask('t1')],
    }));
    await first.store.close();
    fs.appendFileSync(journalFile(dir), '{"seq":4,"op":"update","key":"g/p/b","runt');

    const second = await open(dir);
    expect(await ids(second.jobs)).toEqual(['a', 'b']);
    await second.jobs.create(sampleJob('g', 'p', 'd'));
    await second.store.close();

    const third = await open(dir);
    expect(await ids(third.jobs)).toEqual(['a', 'b', 'd']);
    expect(await third.tasks.count({ group: 'g', project: 'p', id: 'a' })).toBe(1);
    expect((await third.jobs.get({ group: 'g', project: 'p', id: 'b' }))?.runtime.rev).toBe(0);
  });

  it('refuses to open a journal with a corrupt line in the middle, naming the file', async () => {
    const dir = tempDir();
    const first = await open(dir);
    for (const id of ['a', 'b', 'c']) await first.jobs.create(sampleJob('g', 'p', id));
    await first.store.close();
    const lines = journalLines(dir);
    lines[1] = '{"seq":2,"op":"cre';
    fs.writeFileSync(journalFile(dir), `${lines.join('\n')}\n`);

    const opening = EmbeddedStore.open(dir);
    await expect(opening).rejects.toThrow(`Corrupt journal ${journalFile(fs.realpathSync(dir))}`);
    await expect(opening).rejects.toThrow('line 2');
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a journal entry of the unreleased format 1 with a clear error', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.jobs.create(sampleJob('g', 'p', 'a'));
    await first.store.close();
    fs.appendFileSync(
      journalFile(dir),
      '{"seq":2,"op":"enqueue","key":"g/p/a","at":"2026-01-01T00:00:00.000Z"}\n',
    );

    const opening = EmbeddedStore.open(dir);
    await expect(opening).rejects.toThrow(
      `Cannot read journal ${journalFile(fs.realpathSync(dir))}: line 2 is a 'enqueue' entry`,
    );
    await expect(opening).rejects.toThrow('cannot be migrated; start from an empty data directory');
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('refuses a version 1 snapshot with a clear error', async () => {
    const dir = tempDir();
    fs.writeFileSync(
      snapshotFile(dir),
      JSON.stringify({ version: 1, seq: 3, jobs: [] satisfies unknown[] }),
    );

    const opening = EmbeddedStore.open(dir);
    await expect(opening).rejects.toThrow(
      `Cannot load snapshot ${snapshotFile(fs.realpathSync(dir))}: it is a version 1 snapshot`,
    );
    await expect(opening).rejects.toThrow('start from an empty data directory');
    expect(fs.existsSync(lockFile(dir))).toBe(false);
  });

  it('compacts a long journal into a snapshot and reopens with the same data', async () => {
    const dir = tempDir();
    const first = await open(dir, { compactAfter: 5 });
    const job = sampleJob('g', 'p', 'a', { labels: {} });
    await first.jobs.create(job);
    await first.jobs.create(sampleJob('g', 'p', 'b'));
    for (let i = 0; i < 15; i++) {
      await first.jobs.update(job.jobId, (j) => ({
        job: withRuntime(applyJobPatch(j, { labels: { n: `${i}` } }), {
          nextFireAt: new Date(Date.UTC(2026, 0, 1, 0, 2 + i)),
        }),
        history: i % 5 === 0 ? [recentTask(`t${i}`, 20 - i)] : [],
      }));
    }
    const before = {
      jobs: await first.jobs.list({}),
      tasks: await first.tasks.list(job.jobId),
      due: await dueView(first.jobs),
    };
    await first.store.close();

    expect(fs.existsSync(snapshotFile(dir))).toBe(true);
    expect(journalLines(dir).length).toBeLessThanOrEqual(5);
    expect(before.jobs[0]).toMatchObject({ labels: { n: '14' }, runtime: { rev: 15 } });
    expect(before.tasks.map((t) => t.taskId)).toEqual(['t0', 't5', 't10']);
    expect(before.due.all).toEqual(['g/p/b', 'g/p/a']);

    const second = await open(dir, { compactAfter: 5 });
    expect({
      jobs: await second.jobs.list({}),
      tasks: await second.tasks.list(job.jobId),
      due: await dueView(second.jobs),
    }).toEqual(before);
  });

  it('keeps changes made while a snapshot is being written out of it, and loses none of them', async () => {
    const dir = tempDir();
    const first = await open(dir, { compactAfter: 3 });
    const ids = Array.from({ length: 600 }, (_, i) => `job-${i}`);
    await Promise.all(ids.map((id) => first.jobs.create(sampleJob('g', 'p', id))));
    // Every round is one journal batch of 700 changes, after which a snapshot is due (the journal
    // has outgrown the records); the next round's changes are made while it is being written.
    const jobsAfter = new Map<number, string[]>([[600, [...ids].sort()]]);
    const current = new Set(ids);
    const checkSnapshotOnDisk = () => {
      if (!fs.existsSync(snapshotFile(dir))) return;
      const snapshot = JSON.parse(fs.readFileSync(snapshotFile(dir), 'utf8')) as {
        seq: number;
        jobs: Array<{ key: string }>;
      };
      // A snapshot holds exactly the jobs as of its seq: nothing made after it leaks in.
      expect(snapshot.jobs.map((job) => job.key.slice('g/p/'.length))).toEqual(
        jobsAfter.get(snapshot.seq),
      );
    };
    for (let round = 0; round < 6; round++) {
      const created = Array.from({ length: 50 }, (_, k) => `new-${round}-${k}`);
      const deleted = ids.slice(round * 50, round * 50 + 50);
      await Promise.all([
        ...[...current].map((id) =>
          first.jobs.update({ group: 'g', project: 'p', id }, (j) => ({
            job: applyJobPatch(j, { labels: { round: `${round}` } }),
          })),
        ),
        ...created.map((id) => first.jobs.create(sampleJob('g', 'p', id))),
        ...deleted.map((id) => first.jobs.delete({ group: 'g', project: 'p', id })),
      ]);
      for (const id of created) current.add(id);
      for (const id of deleted) current.delete(id);
      jobsAfter.set(600 + 700 * (round + 1), [...current].sort());
      checkSnapshotOnDisk();
    }
    const before = await first.jobs.list({});
    await first.store.close();
    checkSnapshotOnDisk();

    const second = await open(dir, { compactAfter: 3 });
    const after = await second.jobs.list({});
    expect(after.map((job) => job.jobId.id).sort()).toEqual([...current].sort());
    expect(after).toEqual(before);
  });

  it('does not replay journal lines a snapshot already holds (crash before the journal reset)', async () => {
    const dir = tempDir();
    const first = await open(dir);
    const job = sampleJob('g', 'p', 'a');
    await first.jobs.create(job);
    for (let i = 0; i < 3; i++) {
      await first.jobs.update(job.jobId, (j) => ({
        job: j,
        history: [recentTask(`t${i}`, 10 - i)],
      }));
    }
    const journalBeforeReset = fs.readFileSync(journalFile(dir));
    await first.store.compact();
    expect(fs.statSync(journalFile(dir)).size).toBe(0);
    await first.store.close();
    fs.writeFileSync(journalFile(dir), journalBeforeReset);

    const second = await open(dir);
    expect((await second.tasks.list(job.jobId)).map((t) => t.taskId)).toEqual(['t0', 't1', 't2']);
    expect((await second.jobs.get(job.jobId))?.runtime.rev).toBe(3);
    await second.jobs.update(job.jobId, (j) => ({ job: j, history: [recentTask('t3')] }));
    await second.store.close();
    expect(JSON.parse(journalLines(dir).at(-1) ?? '')).toMatchObject({ seq: 5, op: 'update' });

    const third = await open(dir);
    expect((await third.tasks.list(job.jobId)).map((t) => t.taskId)).toEqual([
      't0',
      't1',
      't2',
      't3',
    ]);
    expect((await third.jobs.get(job.jobId))?.runtime.rev).toBe(4);
  });

  it('keeps the due index across reopening and compaction', async () => {
    const dir = tempDir();
    const random = randoms(7);
    const minute = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, n));
    let first = await open(dir);
    const created: Job[] = [];
    for (let i = 0; i < 60; i++) {
      const nextFireAt = i % 9 === 0 ? null : minute(random() % 600);
      created.push(withRuntime(sampleJob('g', `p${i % 3}`, `j${i}`), { nextFireAt }));
    }
    await Promise.all(created.map((job) => first.jobs.create(job)));
    const snapshotAndJournal = async () => {
      for (let i = 0; i < 60; i += 4) {
        await first.jobs.update(created[i].jobId, (j) => ({
          job: withRuntime(j, { nextFireAt: minute(random() % 600) }),
        }));
      }
      await first.jobs.update(created[1].jobId, (j) => ({
        job: withRuntime(j, { paused: { since: minute(0), until: minute(3) } }),
      }));
      await first.jobs.update(created[2].jobId, (j) => ({
        job: withRuntime(j, { paused: { since: minute(0), until: null } }),
      }));
      await first.jobs.delete(created[5].jobId);
    };
    await snapshotAndJournal();
    const before = await dueView(first.jobs);
    expect(before.all).toContain('g/p1/j1');
    expect(before.all).not.toContain('g/p2/j2');
    expect(before.all).not.toContain('g/p2/j5');

    await first.store.close();
    first = await open(dir);
    expect(await dueView(first.jobs)).toEqual(before);

    await first.store.compact();
    expect(await dueView(first.jobs)).toEqual(before);
    await first.store.close();
    first = await open(dir);
    expect(await dueView(first.jobs)).toEqual(before);

    // A snapshot followed by more journal entries.
    await first.jobs.create(sampleJob('g', 'p', 'late'));
    const withLate = await dueView(first.jobs);
    await first.store.close();
    first = await open(dir);
    expect(await dueView(first.jobs)).toEqual(withLate);
    expect(withLate.all).toHaveLength(before.all.length + 1);
  });

  it('lists the soonest due of 20,000 jobs', async () => {
    const dir = tempDir();
    const random = randoms(42);
    const base = Date.UTC(2026, 0, 1);
    const due = new Map<string, number | null>();
    const dueTime = () => base + (random() % 5000) * 60_000;
    let { jobs, store } = await open(dir);
    // One parsed cron for all: sampleJob per job would spend seconds in the cron parser.
    const template = sampleJob('g', 'p', 'template');
    const created: Job[] = [];
    for (let i = 0; i < 20_000; i++) {
      const at = i % 7 === 0 ? null : dueTime();
      const jobId = { group: `g${i % 4}`, project: 'p', id: `j${i}` };
      const job = withRuntime(
        { ...template, jobId },
        {
          nextFireAt: at === null ? null : new Date(at),
        },
      );
      created.push(job);
      due.set(jobKey(job.jobId), at);
    }
    await Promise.all(created.map((job) => jobs.create(job)));
    const changes: Promise<unknown>[] = [];
    for (let i = 0; i < 20_000; i += 9) {
      const at = i % 2 === 0 ? dueTime() : null;
      due.set(jobKey(created[i].jobId), at);
      changes.push(
        jobs.update(created[i].jobId, (j) => ({
          job: withRuntime(j, { nextFireAt: at === null ? null : new Date(at) }),
        })),
      );
    }
    for (let i = 3; i < 20_000; i += 41) {
      due.delete(jobKey(created[i].jobId));
      changes.push(jobs.delete(created[i].jobId));
    }
    await Promise.all(changes);

    const now = new Date(base + 2500 * 60_000);
    const expected = [...due]
      .filter((entry): entry is [string, number] => entry[1] !== null)
      .sort(([keyA, a], [keyB, b]) => a - b || (keyA < keyB ? -1 : keyA > keyB ? 1 : 0));
    const soonest = expected.slice(0, 100).map(([key]) => key);
    expect(expected[100][1]).toBeLessThanOrEqual(now.getTime());
    expect(paths(await jobs.listDue(now, 100))).toEqual(soonest);
    expect(await jobs.nextDueAt()).toEqual(new Date(expected[0][1]));
    const dueByNow = expected.filter(([, at]) => at <= now.getTime()).map(([key]) => key);
    expect(paths(await jobs.listDue(now, 100_000))).toEqual(dueByNow);

    await store.close();
    ({ jobs, store } = await open(dir));
    expect(paths(await jobs.listDue(now, 100))).toEqual(soonest);
    expect(await jobs.nextDueAt()).toEqual(new Date(expected[0][1]));
  }, 60_000);

  it('keeps DEFAULT_HISTORY_RETENTION when opened without a retention', async () => {
    const { jobs, tasks } = await open(tempDir());
    const job = sampleJob('g', 'p', 'a');
    await jobs.create(job);
    const history = Array.from({ length: 1001 }, (_, i) => recentTask(`t${i}`, 2000 - i));
    await jobs.update(job.jobId, (j) => ({ job: j, history }));
    expect(await tasks.count(job.jobId)).toBe(1000);
    expect((await tasks.list(job.jobId, { offset: 0, limit: 1 }))[0].taskId).toBe('t1');
  });

  it('hides task records as they age past the retention, and leaves them out of a snapshot', async () => {
    const dir = tempDir();
    const retention = { maxAgeMs: 60_000, maxPerJob: 10 };
    const { jobs, tasks, store } = await open(dir, { retention });
    const job = sampleJob('g', 'p', 'a');
    await jobs.create(job);
    await jobs.update(job.jobId, (j) => ({
      job: j,
      history: [recentTask('older', 30), recentTask('newer', 10)],
    }));
    expect(await tasks.count(job.jobId)).toBe(2);

    const later = Date.now() + 40_000;
    jest.spyOn(Date, 'now').mockReturnValue(later);
    expect((await tasks.list(job.jobId)).map((t) => t.taskId)).toEqual(['newer']);
    expect(await tasks.count(job.jobId)).toBe(1);
    await store.compact();
    const snapshot = JSON.parse(fs.readFileSync(snapshotFile(dir), 'utf8')) as {
      version: number;
      jobs: { key: string; tasks: string[] }[];
    };
    expect(snapshot.version).toBe(2);
    expect(snapshot.jobs.map((j) => [j.key, j.tasks.length])).toEqual([['g/p/a', 1]]);
  });

  it('fails the batch and every later call once an fsync fails', async () => {
    const dir = tempDir();
    const { jobs } = await open(dir);
    await jobs.create(sampleJob('g', 'p', 'a'));
    jest
      .spyOn(await fileHandlePrototype(), 'datasync')
      .mockRejectedValueOnce(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));

    const batch = await Promise.allSettled([
      jobs.create(sampleJob('g', 'p', 'b')),
      jobs.update({ group: 'g', project: 'p', id: 'a' }, (j) => ({
        job: j,
        history: [recentTask('t1')],
      })),
    ]);
    const unavailable = {
      status: 'rejected',
      reason: expect.objectContaining({ code: JobsErrorCode.STORE_UNAVAILABLE }),
    };
    expect(batch).toEqual([unavailable, unavailable]);
    await expect(jobs.create(sampleJob('g', 'p', 'd'))).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
    await expect(jobs.get({ group: 'g', project: 'p', id: 'a' })).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
    await expect(jobs.listDue(FAR_FUTURE, 10)).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
  });

  it('rejects calls after close as unavailable', async () => {
    const { store, jobs } = await open(tempDir());
    await store.close();
    await expect(jobs.create(sampleJob('g', 'p', 'a'))).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
  });
});

async function fileHandlePrototype(): Promise<fsp.FileHandle> {
  const handle = await fsp.open(__filename, 'r');
  await handle.close();
  return Object.getPrototypeOf(handle) as fsp.FileHandle;
}

/**
 * A separate process that creates `count` jobs one by one, then updates each with a label and a
 * task record, says `wrote`, then idles until killed.
 */
function forkWriter(root: string, dataDir: string, count: number): ChildProcess {
  const source = (file: string) => JSON.stringify(path.join(__dirname, file));
  const script = path.join(root, 'writer.js');
  fs.writeFileSync(
    script,
    `const { EmbeddedStore } = require(${source('embedded-store')});
const { EmbeddedJobRepository } = require(${source('embedded-job.repository')});
const { sampleJob, sampleTask } = require(${source('../../testing/job-fixtures')});
(async () => {
  const jobs = new EmbeddedJobRepository(await EmbeddedStore.open(process.argv[2]));
  const id = (i) => 'job-' + String(i).padStart(3, '0');
  for (let i = 0; i < ${count}; i++) {
    await jobs.create(sampleJob('g', 'p', id(i)));
  }
  for (let i = 0; i < ${count}; i++) {
    await jobs.update({ group: 'g', project: 'p', id: id(i) }, (j) => ({
      job: { ...j, labels: { n: String(i) } },
      history: [sampleTask('t-' + id(i), new Date().toISOString())],
    }));
  }
  process.stdout.write('wrote\\n');
  setInterval(() => undefined, 60_000);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`,
  );
  return fork(script, [dataDir], {
    cwd: REPO_ROOT,
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    env: { ...process.env, TS_NODE_PROJECT: path.join(REPO_ROOT, 'tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
}

function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(text)) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) early: ${stderr}`)));
  });
}
