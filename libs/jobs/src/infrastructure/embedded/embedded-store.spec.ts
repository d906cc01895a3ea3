import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JobRepository } from '../../application/ports/job-repository.port';
import { applyJobPatch } from '../../domain/job';
import { JobsErrorCode } from '../../domain/jobs.errors';
import { sampleJob, sampleTask } from '../../testing/job-fixtures';
import { describeJobStoreContract, type JobStoreUnderTest } from '../../testing/job-store.contract';
import { EmbeddedJobRepository } from './embedded-job.repository';
import { EmbeddedStore, type EmbeddedStoreOptions } from './embedded-store';
import { EmbeddedTaskHistoryRepository } from './embedded-task-history.repository';

const REPO_ROOT = path.resolve(__dirname, '../../../../..');

function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-embedded-'));
}

function repositories(store: EmbeddedStore): JobStoreUnderTest & { store: EmbeddedStore } {
  return {
    store,
    jobs: new EmbeddedJobRepository(store),
    tasks: new EmbeddedTaskHistoryRepository(store),
  };
}

describeJobStoreContract('EmbeddedJobRepository', () => {
  let dir = '';
  let store: EmbeddedStore | null = null;
  const openStore = async (): Promise<JobStoreUnderTest> => {
    store = await EmbeddedStore.open(dir);
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

  it('keeps every acknowledged create when its process is killed', async () => {
    const root = tempDir();
    const dir = path.join(root, 'data');
    const writer = forkWriter(root, dir, 200);
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

    const { jobs } = await open(dir);
    const expected = Array.from({ length: 200 }, (_, i) => `job-${String(i).padStart(3, '0')}`);
    expect(await ids(jobs)).toEqual(expected);
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

  it('ignores a torn last journal line and keeps appending after the intact data', async () => {
    const dir = tempDir();
    const first = await open(dir);
    await first.jobs.create(sampleJob('g', 'p', 'a'));
    await first.jobs.create(sampleJob('g', 'p', 'b'));
    await first.store.close();
    fs.appendFileSync(journalFile(dir), '{"seq":3,"op":"create","key":"g/p/c","spe');

    const second = await open(dir);
    expect(await ids(second.jobs)).toEqual(['a', 'b']);
    await second.jobs.create(sampleJob('g', 'p', 'd'));
    await second.store.close();

    const third = await open(dir);
    expect(await ids(third.jobs)).toEqual(['a', 'b', 'd']);
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

  it('compacts a long journal into a snapshot and reopens with the same data', async () => {
    const dir = tempDir();
    const first = await open(dir, { compactAfter: 5 });
    const job = sampleJob('g', 'p', 'a', { labels: {} });
    await first.jobs.create(job);
    await first.jobs.enqueueRun(job.jobId, new Date('2026-01-01T00:00:00Z'));
    for (let i = 0; i < 3; i++) {
      await first.tasks.append(job.jobId, sampleTask(`t${i}`, `2026-01-01T00:0${i}:00Z`));
    }
    for (let i = 0; i < 15; i++) {
      await first.jobs.updateSpec(job.jobId, (j) => applyJobPatch(j, { labels: { n: `${i}` } }));
    }
    const before = {
      jobs: await first.jobs.list({}),
      tasks: await first.tasks.list(job.jobId),
      queued: await first.jobs.listQueuedRuns(),
    };
    await first.store.close();

    expect(fs.existsSync(snapshotFile(dir))).toBe(true);
    expect(journalLines(dir).length).toBeLessThanOrEqual(5);
    expect(before.jobs[0].labels).toEqual({ n: '14' });

    const second = await open(dir, { compactAfter: 5 });
    expect({
      jobs: await second.jobs.list({}),
      tasks: await second.tasks.list(job.jobId),
      queued: await second.jobs.listQueuedRuns(),
    }).toEqual(before);
  });

  it('does not replay journal lines a snapshot already holds (crash before the journal reset)', async () => {
    const dir = tempDir();
    const first = await open(dir);
    const job = sampleJob('g', 'p', 'a');
    await first.jobs.create(job);
    for (let i = 0; i < 3; i++) {
      await first.tasks.append(job.jobId, sampleTask(`t${i}`, `2026-01-01T00:0${i}:00Z`));
    }
    const journalBeforeReset = fs.readFileSync(journalFile(dir));
    await first.store.compact();
    expect(fs.statSync(journalFile(dir)).size).toBe(0);
    await first.store.close();
    fs.writeFileSync(journalFile(dir), journalBeforeReset);

    const second = await open(dir);
    expect((await second.tasks.list(job.jobId)).map((t) => t.taskId)).toEqual(['t0', 't1', 't2']);
    await second.tasks.append(job.jobId, sampleTask('t3', '2026-01-01T00:03:00Z'));
    await second.store.close();
    expect(JSON.parse(journalLines(dir).at(-1) ?? '')).toMatchObject({ seq: 5, op: 'task' });

    const third = await open(dir);
    expect((await third.tasks.list(job.jobId)).map((t) => t.taskId)).toEqual([
      't0',
      't1',
      't2',
      't3',
    ]);
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
      jobs.create(sampleJob('g', 'p', 'c')),
    ]);
    expect(batch).toEqual([
      {
        status: 'rejected',
        reason: expect.objectContaining({ code: JobsErrorCode.STORE_UNAVAILABLE }),
      },
      {
        status: 'rejected',
        reason: expect.objectContaining({ code: JobsErrorCode.STORE_UNAVAILABLE }),
      },
    ]);
    await expect(jobs.create(sampleJob('g', 'p', 'd'))).rejects.toMatchObject({
      code: JobsErrorCode.STORE_UNAVAILABLE,
    });
    await expect(jobs.get({ group: 'g', project: 'p', id: 'a' })).rejects.toMatchObject({
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

/** A separate process that creates `count` jobs one by one, says `wrote`, then idles until killed. */
function forkWriter(root: string, dataDir: string, count: number): ChildProcess {
  const source = (file: string) => JSON.stringify(path.join(__dirname, file));
  const script = path.join(root, 'writer.js');
  fs.writeFileSync(
    script,
    `const { EmbeddedStore } = require(${source('embedded-store')});
const { EmbeddedJobRepository } = require(${source('embedded-job.repository')});
const { sampleJob } = require(${source('../../testing/job-fixtures')});
(async () => {
  const jobs = new EmbeddedJobRepository(await EmbeddedStore.open(process.argv[2]));
  for (let i = 0; i < ${count}; i++) {
    await jobs.create(sampleJob('g', 'p', 'job-' + String(i).padStart(3, '0')));
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
