import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { QueuedRun } from '../../application/ports/job-repository.port';
import type { Job } from '../../domain/job';
import { jobKey, parseJobKey } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import type { TaskRecord } from '../../domain/task-record';
import { decodeJob, decodeTask, encodeRuntime, encodeSpec, encodeTask } from '../job-codec';

const JOURNAL_FILE = 'journal.log';
const SNAPSHOT_FILE = 'snapshot.json';
const SNAPSHOT_TMP_FILE = 'snapshot.json.tmp';
const LOCK_FILE = 'rhythm.lock';
const DEFAULT_COMPACT_AFTER = 10_000;
const SNAPSHOT_VERSION = 1;
const NEWLINE = 0x0a;

export interface EmbeddedStoreOptions {
  /**
   * The journal is compacted once it holds more entries than this or than the data set has
   * records, whichever is larger: a snapshot then never costs more than the journal it replaces.
   */
  readonly compactAfter?: number;
}

export type EnqueueResult = 'queued' | 'already-queued' | 'no-job';

/** One mutation; the same function applies it live and on replay, so both yield the same state. */
type JournalOp =
  | { readonly op: 'create'; readonly key: string; readonly spec: string; readonly runtime: string }
  | { readonly op: 'spec'; readonly key: string; readonly spec: string }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'enqueue'; readonly key: string; readonly at: string }
  | { readonly op: 'task'; readonly key: string; readonly task: string };

type JournalEntry = JournalOp & { readonly seq: number };

interface SnapshotJob {
  readonly key: string;
  readonly spec: string;
  readonly runtime: string;
  readonly tasks: readonly string[];
  readonly queuedAt: string | null;
}

interface Snapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly seq: number;
  readonly jobs: readonly SnapshotJob[];
}

interface JobSlot {
  readonly key: string;
  job: Job;
  /** Oldest first by end time; equal end times keep their arrival order. */
  readonly tasks: TaskRecord[];
}

interface PendingLine {
  readonly line: string;
  readonly resolve: () => void;
  readonly reject: (error: JobsError) => void;
}

/**
 * The job store of a single process: all data in memory, made durable by an fsync'ed journal
 * (one JSON line per mutation) that is periodically folded into a snapshot.
 *
 * Mutations change memory synchronously, so check-and-set needs no locking in Node's single
 * thread; their promises settle once the batch holding them is on disk. Mutations of one tick
 * share a single write and fdatasync (group commit).
 */
export class EmbeddedStore {
  private pending: PendingLine[] = [];
  private draining: Promise<void> | null = null;
  private compactRequested = false;
  private failure: { readonly cause: unknown } | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly dir: string,
    private readonly lock: DirectoryLock,
    private readonly journal: fsp.FileHandle,
    private readonly state: StoreState,
    private readonly compactAfter: number,
    private seq: number,
    private journalLines: number,
  ) {}

  static async open(dir: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    const compactAfter = options.compactAfter ?? DEFAULT_COMPACT_AFTER;
    if (!Number.isSafeInteger(compactAfter) || compactAfter < 1) {
      throw new Error(`compactAfter must be a positive integer, got ${compactAfter}`);
    }
    fs.mkdirSync(dir, { recursive: true });
    const root = fs.realpathSync(dir);
    const lock = DirectoryLock.acquire(root);
    try {
      const loaded = await loadState(root);
      const journal = await openJournal(root, loaded.journalValidLength);
      return new EmbeddedStore(
        root,
        lock,
        journal,
        loaded.state,
        compactAfter,
        loaded.seq,
        loaded.journalLines,
      );
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  getJob(key: string): Job | null {
    this.assertUsable();
    return this.state.slot(key)?.job ?? null;
  }

  /** Jobs whose key starts with `prefix`, in key order. */
  listJobs(prefix: string): Job[] {
    this.assertUsable();
    return this.state.jobsWithPrefix(prefix);
  }

  listTasks(key: string): TaskRecord[] {
    this.assertUsable();
    return [...(this.state.slot(key)?.tasks ?? [])];
  }

  /** Oldest request first; requests of the same millisecond in key order. */
  listQueuedRuns(): QueuedRun[] {
    this.assertUsable();
    return this.state.queuedRuns();
  }

  /** False, without writing anything, when the key is taken. */
  async createJob(job: Job): Promise<boolean> {
    this.assertUsable();
    const key = jobKey(job.jobId);
    if (this.state.slot(key)) return false;
    await this.commit({
      op: 'create',
      key,
      spec: encodeSpec(job),
      runtime: encodeRuntime(job.runtime),
    });
    return true;
  }

  /** Stores the spec of `change(job)`, keeping the stored runtime; null when the job is absent. */
  async updateJobSpec(key: string, change: (job: Job) => Job): Promise<Job | null> {
    this.assertUsable();
    const slot = this.state.slot(key);
    if (!slot) return null;
    const written = this.commit({ op: 'spec', key, spec: encodeSpec(change(slot.job)) });
    // Captured before awaiting: a later edit may replace slot.job while this batch is written.
    const updated = slot.job;
    await written;
    return updated;
  }

  async deleteJob(key: string): Promise<boolean> {
    this.assertUsable();
    if (!this.state.slot(key)) return false;
    await this.commit({ op: 'delete', key });
    return true;
  }

  async enqueueRun(key: string, requestedAt: Date): Promise<EnqueueResult> {
    this.assertUsable();
    if (!this.state.slot(key)) return 'no-job';
    if (this.state.isQueued(key)) return 'already-queued';
    await this.commit({ op: 'enqueue', key, at: requestedAt.toISOString() });
    return 'queued';
  }

  /** A run may finish after its job was deleted; its record is dropped, as the history was. */
  async appendTask(key: string, task: TaskRecord): Promise<void> {
    this.assertUsable();
    if (!this.state.slot(key)) return;
    await this.commit({ op: 'task', key, task: encodeTask(task) });
  }

  /** Folds the journal into a fresh snapshot now instead of waiting for the threshold. */
  async compact(): Promise<void> {
    this.assertUsable();
    this.compactRequested = true;
    this.scheduleDrain();
    await this.settled();
    this.assertUsable();
  }

  /** Waits for every accepted mutation to be written, then releases the directory. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    await this.settled();
    try {
      await this.journal.close();
    } finally {
      this.lock.release();
    }
  }

  private assertUsable(): void {
    // After a failed write memory holds changes the disk may lack; serving them would be a lie.
    if (this.failure) throw JobsError.storeUnavailable(this.failure.cause);
    if (this.closed) {
      throw JobsError.storeUnavailable(new Error('The embedded job store is closed'));
    }
  }

  /** Synchronous up to the returned promise, which is what makes check-and-set atomic. */
  private commit(op: JournalOp): Promise<void> {
    this.state.apply(op);
    this.seq += 1;
    const line = `${JSON.stringify({ seq: this.seq, ...op })}\n`;
    return new Promise((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      this.scheduleDrain();
    });
  }

  private scheduleDrain(): void {
    this.draining ??= this.drain();
  }

  private async settled(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** The only writer of the journal and the snapshot, so their I/O never interleaves. */
  private async drain(): Promise<void> {
    // Let the rest of this tick's mutations join the batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      while (this.failure === null && (this.pending.length > 0 || this.compactRequested)) {
        if (this.pending.length > 0) await this.writeBatch(this.pending.splice(0));
        if (this.failure === null && (this.compactRequested || this.needsCompaction())) {
          await this.writeSnapshot();
        }
      }
    } finally {
      this.draining = null;
    }
  }

  private async writeBatch(batch: PendingLine[]): Promise<void> {
    try {
      await writeFully(this.journal, Buffer.from(batch.map((p) => p.line).join('')));
      await this.journal.datasync();
    } catch (cause) {
      this.fail(cause, batch);
      return;
    }
    this.journalLines += batch.length;
    for (const p of batch) p.resolve();
  }

  private needsCompaction(): boolean {
    return this.journalLines > Math.max(this.compactAfter, this.state.size);
  }

  /**
   * The snapshot may include mutations still waiting in `pending`; they are journaled afterwards
   * anyway and skipped on replay because their seq is not above the snapshot's.
   */
  private async writeSnapshot(): Promise<void> {
    this.compactRequested = false;
    const text = JSON.stringify(this.state.toSnapshot(this.seq));
    try {
      const tmp = path.join(this.dir, SNAPSHOT_TMP_FILE);
      await writeFileDurably(tmp, text);
      await fsp.rename(tmp, path.join(this.dir, SNAPSHOT_FILE));
      await fsyncDirectory(this.dir);
      // A crash before this leaves journal lines the snapshot covers; replay skips them by seq.
      await this.journal.truncate(0);
    } catch (cause) {
      this.fail(cause, []);
      return;
    }
    this.journalLines = 0;
  }

  private fail(cause: unknown, batch: PendingLine[]): void {
    this.failure = { cause };
    for (const p of [...batch, ...this.pending.splice(0)]) {
      p.reject(JobsError.storeUnavailable(cause));
    }
  }
}

/** All data, indexed for reads: a map by key plus the same slots sorted by key for listings. */
class StoreState {
  private readonly slots = new Map<string, JobSlot>();
  private readonly sorted: JobSlot[] = [];
  private readonly queued = new Map<string, Date>();
  private taskCount = 0;

  /** How many records a snapshot would hold. */
  get size(): number {
    return this.slots.size + this.taskCount + this.queued.size;
  }

  slot(key: string): JobSlot | undefined {
    return this.slots.get(key);
  }

  isQueued(key: string): boolean {
    return this.queued.has(key);
  }

  jobsWithPrefix(prefix: string): Job[] {
    const jobs: Job[] = [];
    for (let i = lowerBound(this.sorted, prefix); i < this.sorted.length; i++) {
      const slot = this.sorted[i];
      if (!slot.key.startsWith(prefix)) break;
      jobs.push(slot.job);
    }
    return jobs;
  }

  queuedRuns(): QueuedRun[] {
    return [...this.queued]
      .sort(([keyA, atA], [keyB, atB]) => atA.getTime() - atB.getTime() || compare(keyA, keyB))
      .map(([key, at]) => ({ jobId: parseJobKey(key), requestedAt: new Date(at.getTime()) }));
  }

  /** Throws when the op does not fit the state, which on replay means the files disagree. */
  apply(op: JournalOp): void {
    switch (op.op) {
      case 'create':
        return this.create(op.key, op.spec, op.runtime);
      case 'spec':
        return this.replaceSpec(op.key, op.spec);
      case 'delete':
        return this.delete(op.key);
      case 'enqueue':
        return this.enqueue(op.key, op.at);
      case 'task':
        return this.appendTask(op.key, op.task);
    }
  }

  toSnapshot(seq: number): Snapshot {
    const jobs = this.sorted.map(({ key, job, tasks }) => ({
      key,
      spec: encodeSpec(job),
      runtime: encodeRuntime(job.runtime),
      tasks: tasks.map(encodeTask),
      queuedAt: this.queued.get(key)?.toISOString() ?? null,
    }));
    return { version: SNAPSHOT_VERSION, seq, jobs };
  }

  load(snapshot: Snapshot): void {
    for (const { key, spec, runtime, tasks, queuedAt } of snapshot.jobs) {
      this.create(key, spec, runtime);
      for (const task of tasks) this.appendTask(key, task);
      if (queuedAt !== null) this.enqueue(key, queuedAt);
    }
  }

  private create(key: string, spec: string, runtime: string): void {
    if (this.slots.has(key)) throw new Error(`job ${key} already exists`);
    const slot: JobSlot = { key, job: decodeJob(parseJobKey(key), spec, runtime), tasks: [] };
    this.slots.set(key, slot);
    this.sorted.splice(lowerBound(this.sorted, key), 0, slot);
  }

  private replaceSpec(key: string, spec: string): void {
    const slot = this.existing(key);
    slot.job = decodeJob(slot.job.jobId, spec, encodeRuntime(slot.job.runtime));
  }

  private delete(key: string): void {
    const slot = this.existing(key);
    this.slots.delete(key);
    this.sorted.splice(lowerBound(this.sorted, key), 1);
    this.queued.delete(key);
    this.taskCount -= slot.tasks.length;
  }

  private enqueue(key: string, at: string): void {
    this.existing(key);
    const requestedAt = new Date(at);
    if (Number.isNaN(requestedAt.getTime())) throw new Error(`invalid run request time ${at}`);
    if (this.queued.has(key)) throw new Error(`a run of ${key} is queued already`);
    this.queued.set(key, requestedAt);
  }

  private appendTask(key: string, text: string): void {
    insertByEnd(this.existing(key).tasks, decodeTask(text));
    this.taskCount += 1;
  }

  private existing(key: string): JobSlot {
    const slot = this.slots.get(key);
    if (!slot) throw new Error(`job ${key} does not exist`);
    return slot;
  }
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Index of the first slot whose key is not below `key`. */
function lowerBound(sorted: readonly JobSlot[], key: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid].key < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Records nearly always arrive in end order, so the scan from the back is short. */
function insertByEnd(tasks: TaskRecord[], task: TaskRecord): void {
  const end = task.end.getTime();
  let index = tasks.length;
  while (index > 0 && tasks[index - 1].end.getTime() > end) index -= 1;
  tasks.splice(index, 0, task);
}

interface LoadedState {
  readonly state: StoreState;
  readonly seq: number;
  readonly journalLines: number;
  /** Bytes of the journal up to the end of its last valid line; a torn tail is cut off. */
  readonly journalValidLength: number;
}

interface NumberedEntry {
  readonly entry: JournalEntry;
  readonly line: number;
}

async function loadState(dir: string): Promise<LoadedState> {
  const state = new StoreState();
  const snapshotSeq = await loadSnapshot(state, path.join(dir, SNAPSHOT_FILE));
  const journalFile = path.join(dir, JOURNAL_FILE);
  const journal = scanJournal((await readIfExists(journalFile)) ?? Buffer.alloc(0), journalFile);
  const seq = replayJournal(state, journal.entries, snapshotSeq, journalFile);
  return {
    state,
    seq,
    journalLines: journal.entries.length,
    journalValidLength: journal.validLength,
  };
}

async function loadSnapshot(state: StoreState, file: string): Promise<number> {
  const data = await readIfExists(file);
  if (data === null) return 0;
  let snapshot: Snapshot;
  try {
    snapshot = parseSnapshot(JSON.parse(data.toString('utf8')));
    state.load(snapshot);
  } catch (error) {
    throw new Error(`Cannot load snapshot ${file}: ${messageOf(error)}`, { cause: error });
  }
  return snapshot.seq;
}

/**
 * Only the last line can be torn by a crash (batches are appended in order and acknowledged
 * after fsync), so a bad last line is dropped; a bad line with data after it means real damage.
 */
function scanJournal(
  data: Buffer,
  file: string,
): { entries: NumberedEntry[]; validLength: number } {
  const entries: NumberedEntry[] = [];
  let start = 0;
  while (start < data.length) {
    const end = data.indexOf(NEWLINE, start);
    if (end === -1) break;
    const entry = parseJournalLine(data.toString('utf8', start, end));
    if (entry === null) {
      if (end + 1 < data.length) {
        throw new Error(
          `Corrupt journal ${file}: line ${entries.length + 1} is not a valid entry and more lines follow; refusing to start on damaged data`,
        );
      }
      break;
    }
    entries.push({ entry, line: entries.length + 1 });
    start = end + 1;
  }
  return { entries, validLength: start };
}

function replayJournal(
  state: StoreState,
  entries: readonly NumberedEntry[],
  snapshotSeq: number,
  file: string,
): number {
  let seq = snapshotSeq;
  for (const { entry, line } of entries) {
    if (entry.seq <= snapshotSeq) continue;
    if (entry.seq <= seq) {
      throw new Error(`Corrupt journal ${file}: line ${line} repeats seq ${entry.seq}`);
    }
    try {
      state.apply(entry);
    } catch (error) {
      throw new Error(`Corrupt journal ${file}: line ${line}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    seq = entry.seq;
  }
  return seq;
}

function parseJournalLine(text: string): JournalEntry | null {
  try {
    return toJournalEntry(JSON.parse(text));
  } catch {
    return null;
  }
}

function toJournalEntry(value: unknown): JournalEntry | null {
  if (!isRecord(value)) return null;
  const { seq, op, key, spec, runtime, at, task } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || !isString(key)) return null;
  switch (op) {
    case 'create':
      return isString(spec) && isString(runtime) ? { seq, op: 'create', key, spec, runtime } : null;
    case 'spec':
      return isString(spec) ? { seq, op: 'spec', key, spec } : null;
    case 'delete':
      return { seq, op: 'delete', key };
    case 'enqueue':
      return isString(at) ? { seq, op: 'enqueue', key, at } : null;
    case 'task':
      return isString(task) ? { seq, op: 'task', key, task } : null;
    default:
      return null;
  }
}

function parseSnapshot(value: unknown): Snapshot {
  if (!isRecord(value) || value.version !== SNAPSHOT_VERSION) {
    throw new Error(`not a version ${SNAPSHOT_VERSION} snapshot`);
  }
  const { seq, jobs } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || !Array.isArray(jobs)) {
    throw new Error('seq or jobs missing');
  }
  return { version: SNAPSHOT_VERSION, seq, jobs: jobs.map(toSnapshotJob) };
}

function toSnapshotJob(value: unknown, index: number): SnapshotJob {
  if (isRecord(value)) {
    const { key, spec, runtime, tasks, queuedAt } = value;
    if (
      isString(key) &&
      isString(spec) &&
      isString(runtime) &&
      Array.isArray(tasks) &&
      tasks.every(isString) &&
      (queuedAt === null || isString(queuedAt))
    ) {
      return { key, spec, runtime, tasks, queuedAt };
    }
  }
  throw new Error(`job #${index} is malformed`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function openJournal(dir: string, validLength: number): Promise<fsp.FileHandle> {
  const journal = await fsp.open(path.join(dir, JOURNAL_FILE), 'a');
  try {
    // Appending after a torn tail would glue the next entry onto it and corrupt a middle line.
    if ((await journal.stat()).size > validLength) {
      await journal.truncate(validLength);
      await journal.datasync();
    }
    // Makes a newly created journal's directory entry durable before anything is acknowledged.
    await fsyncDirectory(dir);
    return journal;
  } catch (error) {
    await journal.close();
    throw error;
  }
}

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
}

async function writeFully(file: fsp.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await file.write(data, offset);
    offset += bytesWritten;
  }
}

async function writeFileDurably(file: string, text: string): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(error: unknown): unknown {
  return isRecord(error) ? error.code : undefined;
}

/** Real paths of directories open in this process; their lock files name our own pid. */
const lockedDirectories = new Set<string>();

/** `rhythm.lock` holding the owner's pid keeps a second process from sharing the directory. */
class DirectoryLock {
  private constructor(
    private readonly dir: string,
    private readonly file: string,
  ) {}

  static acquire(dir: string): DirectoryLock {
    if (lockedDirectories.has(dir)) {
      throw new Error(
        `Data directory ${dir} is already open in this process (pid ${process.pid}); close it first or choose another RHYTHM_DATA_DIR`,
      );
    }
    const file = path.join(dir, LOCK_FILE);
    // A few rounds only: a stale lock is removed once, unless another process races for it.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (createLockFile(file)) {
        lockedDirectories.add(dir);
        return new DirectoryLock(dir, file);
      }
      const owner = readLockOwner(file);
      // Our own pid here is a previous incarnation's, e.g. pid 1 in a restarted container.
      if (owner !== null && owner !== process.pid && isProcessAlive(owner)) {
        throw new Error(
          `Data directory ${dir} is in use by another Rhythm process (pid ${owner}); stop it or choose another RHYTHM_DATA_DIR`,
        );
      }
      fs.rmSync(file, { force: true });
    }
    throw new Error(`Could not lock data directory ${dir}: ${file} keeps reappearing`);
  }

  release(): void {
    lockedDirectories.delete(this.dir);
    // Never remove a lock some other process took over.
    if (readLockOwner(this.file) === process.pid) fs.rmSync(this.file, { force: true });
  }
}

function createLockFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    fs.writeSync(fd, `${process.pid}\n`);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/** Null when the file is gone or holds no pid (e.g. its writer died before writing it). */
function readLockOwner(file: string): number | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw error;
  }
  return /^[1-9][0-9]*$/.test(text) ? Number(text) : null;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means the process exists but belongs to someone else.
    return errorCode(error) !== 'ESRCH';
  }
}
