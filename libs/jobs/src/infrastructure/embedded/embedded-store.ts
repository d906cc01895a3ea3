import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { JobChange } from '../../application/ports/job-repository.port';
import {
  DEFAULT_HISTORY_RETENTION,
  type HistoryRetention,
  type TaskPage,
} from '../../application/ports/task-history.port';
import { dueAt, type Job } from '../../domain/job';
import { type JobId, jobKey, parseJobKey } from '../../domain/job-id';
import { JobsError } from '../../domain/jobs.errors';
import type { TaskRecord } from '../../domain/task-record';
import {
  decodeJob,
  decodeRuntime,
  decodeTask,
  encodeRuntime,
  encodeSpec,
  encodeTask,
} from '../job-codec';
import { SortedList } from './sorted-list';

const JOURNAL_FILE = 'journal.log';
const SNAPSHOT_FILE = 'snapshot.json';
const SNAPSHOT_TMP_FILE = 'snapshot.json.tmp';
const LOCK_FILE = 'rhythm.lock';
const DEFAULT_COMPACT_AFTER = 10_000;
const SNAPSHOT_VERSION = 2;
const NEWLINE = 0x0a;

/** Journal ops of format 1 (run queues, separate spec and task writes); never released. */
const FORMAT_1_OPS: readonly unknown[] = ['spec', 'enqueue', 'task'];
const FORMAT_1_ADVICE =
  'it was written by an unreleased development build (format 1, with run queues) that cannot be migrated; start from an empty data directory';

export interface EmbeddedStoreOptions {
  /**
   * The journal is compacted once it holds more entries than this or than the data set has
   * records, whichever is larger: a snapshot then never costs more than the journal it replaces.
   */
  readonly compactAfter?: number;
  /** Task records kept per job; DEFAULT_HISTORY_RETENTION when absent. */
  readonly retention?: HistoryRetention;
}

/**
 * One mutation; the same function applies it live and on replay, so both yield the same state.
 * `spec` and `runtime` are the job codec's strings; an update carries `spec` only when it changed.
 */
type JournalOp =
  | { readonly op: 'create'; readonly key: string; readonly spec: string; readonly runtime: string }
  | {
      readonly op: 'update';
      readonly key: string;
      readonly spec?: string;
      readonly runtime: string;
      /** Task records the change closes, in append order. */
      readonly tasks: readonly string[];
    }
  | { readonly op: 'delete'; readonly key: string };

type JournalEntry = JournalOp & { readonly seq: number };

interface SnapshotJob {
  readonly key: string;
  readonly spec: string;
  readonly runtime: string;
  /** Oldest first, as kept in memory. */
  readonly tasks: readonly string[];
}

interface Snapshot {
  readonly version: typeof SNAPSHOT_VERSION;
  readonly seq: number;
  readonly jobs: readonly SnapshotJob[];
}

/** A job to be written into a snapshot (see `StoreState.snapshotJobs`). */
interface SnapshotSource {
  readonly key: string;
  readonly job: Job;
  readonly tasks: readonly TaskRecord[];
}

/** Jobs encoded per write while a snapshot is written. */
const SNAPSHOT_SLICE = 256;

interface JobSlot {
  readonly key: string;
  job: Job;
  /** `dueAt(job.runtime)` in epoch ms, null when never due: the slot's place in the due index. */
  due: number | null;
  /** Oldest first by end time; equal end times keep their append order. */
  tasks: TaskRecord[];
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
    const retention = options.retention ?? DEFAULT_HISTORY_RETENTION;
    if (!(retention.maxAgeMs >= 0) || !Number.isSafeInteger(retention.maxPerJob)) {
      throw new Error(
        `retention needs maxAgeMs >= 0 and an integer maxPerJob, got ${JSON.stringify(retention)}`,
      );
    }
    fs.mkdirSync(dir, { recursive: true });
    const root = fs.realpathSync(dir);
    const lock = DirectoryLock.acquire(root);
    try {
      const loaded = await loadState(root, retention);
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

  /** Jobs due at or before `now`, soonest first (equal times in key order), at most `limit`. */
  listDue(now: Date, limit: number): JobId[] {
    this.assertUsable();
    return this.state.due(now.getTime(), limit);
  }

  nextDueAt(): Date | null {
    this.assertUsable();
    const due = this.state.nextDue();
    return due === null ? null : new Date(due);
  }

  /** Jobs with a run in flight, in key order. */
  listInFlight(): Job[] {
    this.assertUsable();
    return this.state.inFlight();
  }

  /** The job's records within the retention age, oldest first; all of them or one page. */
  listTasks(key: string, page?: TaskPage): TaskRecord[] {
    this.assertUsable();
    return this.state.tasks(key, page);
  }

  countTasks(key: string): number {
    this.assertUsable();
    return this.state.taskCountOf(key);
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

  /**
   * Stores `change(job)` with the next revision and appends its task records, or nothing when
   * `change` returns null. Read, change and apply happen in one synchronous step, so no other
   * mutation can come between them and no compare-and-set retry is needed. Resolves to the job as
   * stored, once it is durable; null when the job is absent.
   */
  async updateJob(key: string, change: (job: Job) => JobChange | null): Promise<Job | null> {
    this.assertUsable();
    const slot = this.state.slot(key);
    if (!slot) return null;
    const current = slot.job;
    const proposed = change(current);
    if (!proposed) return current;
    if (this.state.slot(key) !== slot || slot.job !== current) {
      throw new Error(`Job ${key} was changed by its own change function`);
    }
    const next: Job = {
      ...proposed.job,
      runtime: { ...proposed.job.runtime, rev: current.runtime.rev + 1 },
    };
    const spec = encodeSpec(next);
    const written = this.commit({
      op: 'update',
      key,
      ...(spec === encodeSpec(current) ? {} : { spec }),
      runtime: encodeRuntime(next.runtime),
      tasks: (proposed.history ?? []).map(encodeTask),
    });
    // Captured before awaiting: a later change may replace slot.job while this batch is written.
    const stored = slot.job;
    await written;
    return stored;
  }

  /** Removes the job with its task records. */
  async deleteJob(key: string): Promise<boolean> {
    this.assertUsable();
    if (!this.state.slot(key)) return false;
    await this.commit({ op: 'delete', key });
    return true;
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

  /** A small file beside the journal (not journaled): null when it was never written. */
  async readSideFile(name: string): Promise<string | null> {
    return (await readIfExists(path.join(this.dir, name)))?.toString('utf8') ?? null;
  }

  /** Replaces a small file beside the journal atomically and durably (fsync, rename, fsync dir). */
  async writeSideFile(name: string, text: string): Promise<void> {
    const tmp = path.join(this.dir, `${name}.tmp`);
    await writeFileDurably(tmp, text);
    await fsp.rename(tmp, path.join(this.dir, name));
    await fsyncDirectory(this.dir);
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
    // Taken at once, so that changes made while it is written do not leak into it.
    const jobs = this.state.snapshotJobs();
    const seq = this.seq;
    try {
      const tmp = path.join(this.dir, SNAPSHOT_TMP_FILE);
      await writeSnapshotFile(tmp, seq, jobs);
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

/**
 * All data, indexed for reads: a map by key, the same slots sorted by key for listings, and the
 * slots with a due time sorted by (due, key) for the scheduler. Each change moves a slot within the
 * sorted lists in O(log n + chunk) (see SortedList), so a due time change never re-sorts anything;
 * while a store is loaded only the map is kept, and both lists are built by one sort at the end.
 */
class StoreState {
  private readonly slots = new Map<string, JobSlot>();
  private readonly byKey = new SortedList<JobSlot>((a, b) => compare(a.key, b.key));
  /** Only slots whose `due` is not null. */
  private readonly byDue = new SortedList<JobSlot>(compareDue);
  private indexed = false;
  private taskCount = 0;
  /** Keys of jobs with a run in flight. */
  private readonly running = new Set<string>();

  constructor(private readonly retention: HistoryRetention) {}

  /** How many records a snapshot would hold. */
  get size(): number {
    return this.slots.size + this.taskCount;
  }

  slot(key: string): JobSlot | undefined {
    return this.slots.get(key);
  }

  jobsWithPrefix(prefix: string): Job[] {
    const jobs: Job[] = [];
    for (const slot of this.byKey.from((s) => s.key < prefix)) {
      if (!slot.key.startsWith(prefix)) break;
      jobs.push(slot.job);
    }
    return jobs;
  }

  /** O(limit): the index starts with the soonest job. */
  due(now: number, limit: number): JobId[] {
    const ids: JobId[] = [];
    if (limit <= 0) return ids;
    for (const { key, due } of this.byDue.from()) {
      if (due === null || due > now) break;
      ids.push(parseJobKey(key));
      if (ids.length >= limit) break;
    }
    return ids;
  }

  nextDue(): number | null {
    return this.byDue.first()?.due ?? null;
  }

  inFlight(): Job[] {
    return [...this.running].sort(compare).map((key) => this.existing(key).job);
  }

  tasks(key: string, page?: TaskPage): TaskRecord[] {
    const tasks = this.slots.get(key)?.tasks ?? [];
    const start = firstUnexpired(tasks, this.oldestKept()) + Math.max(0, page?.offset ?? 0);
    const end = page ? start + Math.max(0, page.limit) : tasks.length;
    return tasks.slice(start, end);
  }

  taskCountOf(key: string): number {
    const tasks = this.slots.get(key)?.tasks ?? [];
    return tasks.length - firstUnexpired(tasks, this.oldestKept());
  }

  /** Throws when the op does not fit the state, which on replay means the files disagree. */
  apply(op: JournalOp): void {
    switch (op.op) {
      case 'create':
        return this.create(op.key, op.spec, op.runtime);
      case 'update':
        return this.update(op.key, op.spec, op.runtime, op.tasks);
      case 'delete':
        return this.delete(op.key);
    }
  }

  /**
   * Every job as it is now, in key order, for a snapshot: references only (jobs and task records
   * are immutable), encoded later slice by slice. Records past the retention age are left out:
   * they are hidden already.
   */
  snapshotJobs(): SnapshotSource[] {
    const oldestKept = this.oldestKept();
    return [...this.byKey.from()].map(({ key, job, tasks }) => ({
      key,
      job,
      tasks: tasks.slice(firstUnexpired(tasks, oldestKept)),
    }));
  }

  /** Only before `buildIndexes`. */
  load(snapshot: Snapshot): void {
    for (const { key, spec, runtime, tasks } of snapshot.jobs) {
      this.create(key, spec, runtime);
      // Array.prototype.sort is stable, and linear on records already in order.
      const slot = this.existing(key);
      slot.tasks = tasks.map(decodeTask).sort((a, b) => a.end.getTime() - b.end.getTime());
      this.taskCount += slot.tasks.length;
      this.trimTasks(slot);
    }
  }

  /** Sorts both indexes once, after loading; from then on every op keeps them in order. */
  buildIndexes(): void {
    const slots = [...this.slots.values()];
    this.byKey.reset(slots.sort((a, b) => compare(a.key, b.key)));
    this.byDue.reset(slots.filter((slot) => slot.due !== null).sort(compareDue));
    this.indexed = true;
  }

  private create(key: string, spec: string, runtime: string): void {
    if (this.slots.has(key)) throw new Error(`job ${key} already exists`);
    const job = decodeJob(parseJobKey(key), spec, runtime);
    const slot: JobSlot = { key, job, due: dueMillis(job), tasks: [] };
    this.slots.set(key, slot);
    this.trackRun(key, job);
    if (this.indexed) {
      this.byKey.insert(slot);
      this.addDue(slot);
    }
  }

  private update(
    key: string,
    spec: string | undefined,
    runtime: string,
    tasks: readonly string[],
  ): void {
    const slot = this.existing(key);
    const job =
      spec === undefined
        ? { ...slot.job, runtime: decodeRuntime(runtime) }
        : decodeJob(slot.job.jobId, spec, runtime);
    const due = dueMillis(job);
    slot.job = job;
    this.trackRun(key, job);
    if (due !== slot.due) {
      this.removeDue(slot);
      slot.due = due;
      this.addDue(slot);
    }
    if (tasks.length > 0) this.appendTasks(slot, tasks);
  }

  private delete(key: string): void {
    const slot = this.existing(key);
    this.slots.delete(key);
    this.running.delete(key);
    if (this.indexed) {
      this.removeDue(slot);
      if (!this.byKey.delete(slot)) throw indexOutOfOrder(slot);
    }
    this.taskCount -= slot.tasks.length;
  }

  private trackRun(key: string, job: Job): void {
    if (job.runtime.run) this.running.add(key);
    else this.running.delete(key);
  }

  private addDue(slot: JobSlot): void {
    if (this.indexed && slot.due !== null) this.byDue.insert(slot);
  }

  private removeDue(slot: JobSlot): void {
    if (this.indexed && slot.due !== null && !this.byDue.delete(slot)) {
      throw indexOutOfOrder(slot);
    }
  }

  private appendTasks(slot: JobSlot, texts: readonly string[]): void {
    for (const text of texts) insertByEnd(slot.tasks, decodeTask(text));
    this.taskCount += texts.length;
    this.trimTasks(slot);
  }

  /**
   * Keeps the newest `maxPerJob` records and none older than `maxAgeMs`. Replay trims at a later
   * time than the live write did, which only drops records that reads hide already.
   */
  private trimTasks(slot: JobSlot): void {
    const { tasks } = slot;
    const drop = Math.max(
      firstUnexpired(tasks, this.oldestKept()),
      tasks.length - Math.max(0, this.retention.maxPerJob),
    );
    if (drop <= 0) return;
    tasks.splice(0, drop);
    this.taskCount -= drop;
  }

  private oldestKept(): number {
    return Date.now() - this.retention.maxAgeMs;
  }

  private existing(key: string): JobSlot {
    const slot = this.slots.get(key);
    if (!slot) throw new Error(`job ${key} does not exist`);
    return slot;
  }
}

/** A due time that is not a valid date (a damaged runtime) would break the order: never due. */
function dueMillis(job: Job): number | null {
  const due = dueAt(job.runtime)?.getTime() ?? null;
  return due === null || Number.isNaN(due) ? null : due;
}

function compare(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}

/** Orders slots of the due index: soonest first, equal times by key. */
function compareDue(a: JobSlot, b: JobSlot): number {
  return (a.due ?? Infinity) - (b.due ?? Infinity) || compare(a.key, b.key);
}

/** A slot missing from an index it belongs in: a bug, never a state to carry on with. */
function indexOutOfOrder(slot: JobSlot): Error {
  return new Error(`index out of order at job ${slot.key}`);
}

/** Index of the first record that ends at or after `oldestKept`; records are in end order. */
function firstUnexpired(tasks: readonly TaskRecord[], oldestKept: number): number {
  let low = 0;
  let high = tasks.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (tasks[mid].end.getTime() < oldestKept) low = mid + 1;
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

async function loadState(dir: string, retention: HistoryRetention): Promise<LoadedState> {
  const state = new StoreState(retention);
  const snapshotSeq = await loadSnapshot(state, path.join(dir, SNAPSHOT_FILE));
  const journalFile = path.join(dir, JOURNAL_FILE);
  const journal = scanJournal((await readIfExists(journalFile)) ?? Buffer.alloc(0), journalFile);
  const seq = replayJournal(state, journal.entries, snapshotSeq, journalFile);
  state.buildIndexes();
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
    const line = entries.length + 1;
    const entry = parseJournalLine(data.toString('utf8', start, end), file, line);
    if (entry === null) {
      if (end + 1 < data.length) {
        throw new Error(
          `Corrupt journal ${file}: line ${line} is not a valid entry and more lines follow; refusing to start on damaged data`,
        );
      }
      break;
    }
    entries.push({ entry, line });
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

/** Null for a line that is not an entry; throws for an entry of the unreleased format 1. */
function parseJournalLine(text: string, file: string, line: number): JournalEntry | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (isRecord(value) && FORMAT_1_OPS.includes(value.op)) {
    throw new Error(
      `Cannot read journal ${file}: line ${line} is a '${String(value.op)}' entry; ${FORMAT_1_ADVICE}`,
    );
  }
  return toJournalEntry(value);
}

function toJournalEntry(value: unknown): JournalEntry | null {
  if (!isRecord(value)) return null;
  const { seq, op, key, spec, runtime, tasks } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || !isString(key)) return null;
  switch (op) {
    case 'create':
      return isString(spec) && isString(runtime) ? { seq, op: 'create', key, spec, runtime } : null;
    case 'update':
      if ((spec !== undefined && !isString(spec)) || !isString(runtime) || !isStrings(tasks)) {
        return null;
      }
      return spec === undefined
        ? { seq, op: 'update', key, runtime, tasks }
        : { seq, op: 'update', key, spec, runtime, tasks };
    case 'delete':
      return { seq, op: 'delete', key };
    default:
      return null;
  }
}

function parseSnapshot(value: unknown): Snapshot {
  if (!isRecord(value)) throw new Error('not a snapshot');
  if (value.version === 1) throw new Error(`it is a version 1 snapshot; ${FORMAT_1_ADVICE}`);
  if (value.version !== SNAPSHOT_VERSION) {
    throw new Error(
      `unsupported snapshot version ${JSON.stringify(value.version)} (this release reads version ${SNAPSHOT_VERSION})`,
    );
  }
  const { seq, jobs } = value;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || !Array.isArray(jobs)) {
    throw new Error('seq or jobs missing');
  }
  return { version: SNAPSHOT_VERSION, seq, jobs: jobs.map(toSnapshotJob) };
}

function toSnapshotJob(value: unknown, index: number): SnapshotJob {
  if (isRecord(value)) {
    const { key, spec, runtime, tasks } = value;
    if (isString(key) && isString(spec) && isString(runtime) && isStrings(tasks)) {
      return { key, spec, runtime, tasks };
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

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every(isString);
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

/**
 * Writes a snapshot (the `Snapshot` JSON) slice by slice and fsyncs it: a store of 30,000 jobs is
 * never one 20 MB string plus its Buffer copy, the memory peak of a compaction before.
 */
async function writeSnapshotFile(
  file: string,
  seq: number,
  jobs: readonly SnapshotSource[],
): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    await handle.write(`{"version":${SNAPSHOT_VERSION},"seq":${seq},"jobs":[`);
    for (let start = 0; start < jobs.length; start += SNAPSHOT_SLICE) {
      const slice = jobs.slice(start, start + SNAPSHOT_SLICE).map(({ key, job, tasks }) => {
        const entry: SnapshotJob = {
          key,
          spec: encodeSpec(job),
          runtime: encodeRuntime(job.runtime),
          tasks: tasks.map(encodeTask),
        };
        return JSON.stringify(entry);
      });
      await handle.write(`${start === 0 ? '' : ','}${slice.join(',')}`);
    }
    await handle.write(']}');
    await handle.sync();
  } finally {
    await handle.close();
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
