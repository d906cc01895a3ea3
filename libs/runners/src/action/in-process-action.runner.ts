import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import type {
  RunLaunch,
  Runner,
  TaskLog,
  TaskLogStream,
  TaskState,
  TaskStatusUpdate,
} from '@rhythm/scheduling';
import { RhythmRunner, type RunnerDefinition } from '../registry/rhythm-runner.decorator';
import { checkRunnerOptions } from '../registry/runner-options';
import { ACTION_FAILED, ActionFailure } from './action-failure';
import {
  isNotFound,
  logWindow,
  pruneKeptFiles,
  readKeptFile,
  taskFileName,
  within,
  type LogRange,
} from '../kept-output/kept-output';
import { ActionLog } from './action-log';

export interface InProcessActionRunnerOptions {
  /**
   * Where the logs of ended runs are kept: `<task>.log`, and `<task>.json` recording how the run
   * ended (so that logs and reconciliation survive a restart). Created when first needed.
   */
  readonly logDir: string;
  /** When set, kept logs older than this are deleted when the app starts. */
  readonly logMaxAgeMs?: number;
  /** After a kill, how long the action has to stop before Killed is reported anyway. */
  readonly killGraceMs?: number;
  /** How many of the last bytes of a run's log are kept. */
  readonly keepLogBytes?: number;
}

/** What an action gets besides its options. */
export interface ActionContext {
  readonly run: RunLaunch;
  /** Aborted when the run is killed or Rhythm shuts down; pass it to every request made. */
  readonly signal: AbortSignal;
  /** Appends a timestamped line to the run's log (served as its `stdout`). Never log secrets. */
  log(line: string): void;
  /** Waits `ms`; rejects as soon as `signal` is aborted. */
  sleep(ms: number): Promise<void>;
}

const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_KEEP_LOG_BYTES = 256 * 1024;
const RECORD_VERSION = 1;
const EMPTY_LOG: TaskLog = { offset: 0, data: '', size: 0 };
/** Why a run is asked to stop: the line logged, and the message of its Killed update. */
const STOPS = {
  kill: { line: 'kill requested', message: 'killed while the action was running' },
  shutdown: {
    line: 'Rhythm is shutting down',
    message: 'Rhythm shut down while the action was running',
  },
} as const;

/** A run this runner accepted, whose log is still in memory. */
interface ActionTask {
  readonly taskId: string;
  readonly log: ActionLog;
  readonly controller: AbortController;
  latest: TaskStatusUpdate;
  terminal: TaskStatusUpdate | null;
  /** Set once asked to stop: the Killed message to report. */
  stopping: string | null;
  graceTimer: NodeJS.Timeout | null;
  readonly done: Promise<void>;
  readonly resolveDone: () => void;
}

/** What is kept on disk next to the log of an ended run. */
interface RunRecord {
  readonly version: typeof RECORD_VERSION;
  readonly kind: string;
  readonly taskId: string;
  readonly logSize: number;
  readonly update: TaskStatusUpdate;
}

type Outcome =
  { readonly ok: true; readonly message: string } | { readonly ok: false; readonly error: unknown };

/**
 * A runner whose run is an async action performed inside Rhythm (calling an API, waiting for a
 * resource), rather than a process. Subclasses implement `perform`; this class does the rest:
 *
 * - Options are checked again at launch against the class declared with @RhythmRunner (a job
 *   saved before the schema changed is refused with the problems), and `perform` gets them as an
 *   instance of that class. The kind too comes from the decorator.
 * - Updates: Running when the action starts, then exactly one of Finished (the message `perform`
 *   returns), Failed (the error's message; the reason of an ActionFailure, else `ACTION_FAILED`) or
 *   Killed. Delivered synchronously and in order; Running arrives before `launch` resolves.
 * - Kill aborts the context's signal. A run asked to stop ends Killed however its action ends;
 *   an action still going after `killGraceMs` is reported Killed anyway and left to finish alone.
 * - Log: lines from `context.log`, timestamped, plus the start and the end of the run; in memory
 *   while it runs, then in `logDir`. `readLogs` serves it as `stdout`; `stderr` is always an empty
 *   log for a known task (an action writes no error stream; null would read as "unknown task").
 * - Reconcile: a run in memory or on disk reports its latest update; any other task is Lost (the
 *   process that ran it is gone, and so is its action).
 */
export abstract class InProcessActionRunner<TOptions extends object = object>
  implements Runner, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logDir: string;
  private readonly logMaxAgeMs: number | undefined;
  private readonly killGraceMs: number;
  private readonly keepLogBytes: number;
  private readonly agentId = os.hostname();
  private listener: ((update: TaskStatusUpdate) => void) | null = null;
  private readonly tasks = new Map<string, ActionTask>();
  private readonly persisting = new Set<Promise<void>>();
  private closed = false;

  constructor(options: InProcessActionRunnerOptions) {
    const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const keepLogBytes = options.keepLogBytes ?? DEFAULT_KEEP_LOG_BYTES;
    if (!Number.isFinite(killGraceMs) || killGraceMs < 0) {
      throw new RangeError(`killGraceMs must be a non-negative number, got ${killGraceMs}`);
    }
    if (!Number.isSafeInteger(keepLogBytes) || keepLogBytes < 0) {
      throw new RangeError(`keepLogBytes must be a non-negative integer, got ${keepLogBytes}`);
    }
    if (options.logDir === '') throw new RangeError('logDir must not be empty');
    this.logDir = options.logDir;
    this.logMaxAgeMs = options.logMaxAgeMs;
    this.killGraceMs = killGraceMs;
    this.keepLogBytes = keepLogBytes;
  }

  /** The kind declared with @RhythmRunner on the subclass. */
  get kind(): string {
    return this.definition().kind;
  }

  /**
   * Does what one run is for. Resolves with the message of the Finished update (or nothing);
   * throws to fail the run (an ActionFailure sets its reason). Must stop soon after
   * `context.signal` is aborted.
   */
  protected abstract perform(options: TOptions, context: ActionContext): Promise<string | void>;

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  async launch(run: RunLaunch): Promise<void> {
    const { taskId } = run;
    this.assertLaunchable(taskId);
    const options = this.parseOptions(run.options);
    if ((await this.readRecord(taskId)) !== null) {
      throw new Error(`task ${taskId} already ran here: its log is in ${this.logDir}`);
    }
    this.assertLaunchable(taskId);

    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const task: ActionTask = {
      taskId,
      log: new ActionLog(this.keepLogBytes),
      controller: new AbortController(),
      latest: this.update(taskId, 'Running'),
      terminal: null,
      stopping: null,
      graceTimer: null,
      done,
      resolveDone,
    };
    this.tasks.set(taskId, task);
    task.log.append(`${this.kind}: run started (attempt ${run.attempt})`);
    this.deliver(task.latest);
    void this.execute(task, options, run);
  }

  async kill(taskId: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (task) this.stop(task, 'kill');
  }

  async reconcile(taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) {
      const task = this.tasks.get(taskId);
      if (task) {
        this.deliver(task.terminal ?? task.latest);
        continue;
      }
      const record = await this.readRecord(taskId);
      this.deliver(
        record?.update ?? {
          ...this.update(taskId, 'Lost'),
          message:
            `the ${this.kind} runner has no record of this run: the Rhythm process that ran it ` +
            'stopped before it ended, and its action may or may not have taken effect',
          reason: 'REASON_RECONCILIATION',
        },
      );
    }
  }

  async readLogs(
    taskId: string,
    stream: TaskLogStream,
    range: LogRange = {},
  ): Promise<TaskLog | null> {
    const task = this.tasks.get(taskId);
    if (task) return stream === 'stdout' ? task.log.window(range) : EMPTY_LOG;
    const record = await this.readRecord(taskId);
    if (record === null) return null;
    if (stream !== 'stdout') return EMPTY_LOG;
    return logWindow(await readKeptFile(this.logPath(taskId)), record.logSize, range);
  }

  /** Deletes kept logs last modified more than `maxAgeMs` ago; returns how many files went. */
  pruneLogs(maxAgeMs: number): Promise<number> {
    return pruneKeptFiles(this.logDir, /\.(log|json|json\.tmp)$/, maxAgeMs);
  }

  /**
   * Stops accepting runs, stops every running one (reported Killed) and resolves once they ended
   * and their logs were written, or after the kill grace plus one second.
   */
  async close(): Promise<void> {
    this.closed = true;
    const live = [...this.tasks.values()].filter((task) => task.terminal === null);
    for (const task of live) this.stop(task, 'shutdown');
    await within(
      this.killGraceMs + 1000,
      Promise.all(live.map((task) => task.done)).then(() => Promise.all([...this.persisting])),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.logMaxAgeMs !== undefined) await this.pruneLogs(this.logMaxAgeMs);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private definition(): RunnerDefinition {
    const definition = Reflect.getMetadata(RhythmRunner.KEY, this.constructor) as
      RunnerDefinition | undefined;
    if (!definition) {
      throw new Error(`${this.constructor.name} must be decorated with @RhythmRunner({ kind })`);
    }
    return definition;
  }

  private parseOptions(options: Readonly<Record<string, unknown>>): TOptions {
    const schema = this.definition().options;
    const check = checkRunnerOptions(schema, options);
    if (!check.ok) {
      throw new Error(`invalid options for the ${this.kind} runner: ${check.problems.join('; ')}`);
    }
    return (schema ? plainToInstance(schema, check.options) : {}) as TOptions;
  }

  private assertLaunchable(taskId: string): void {
    if (this.closed) throw new Error(`the ${this.kind} runner is closed`);
    if (this.tasks.has(taskId)) throw new Error(`task ${taskId} was already launched`);
  }

  private async execute(task: ActionTask, options: TOptions, run: RunLaunch): Promise<void> {
    const signal = task.controller.signal;
    const context: ActionContext = {
      run,
      signal,
      log: (line) => {
        // After the end the log is being written out; a straggler's lines would be lost anyway.
        if (task.terminal === null) task.log.append(line);
      },
      sleep: (ms) => sleep(ms, signal),
    };
    let outcome: Outcome;
    try {
      const message = await this.perform(options, context);
      outcome = { ok: true, message: typeof message === 'string' ? message : '' };
    } catch (error) {
      outcome = { ok: false, error };
    }
    this.settle(task, outcome);
  }

  private settle(task: ActionTask, outcome: Outcome): void {
    if (task.terminal !== null) return;
    if (task.stopping !== null) {
      this.finish(task, this.killed(task));
    } else if (outcome.ok) {
      this.finish(task, { ...this.update(task.taskId, 'Finished'), message: outcome.message });
    } else {
      const error = outcome.error;
      this.finish(task, {
        ...this.update(task.taskId, 'Failed'),
        message: errorMessage(error),
        reason: error instanceof ActionFailure ? error.reason : ACTION_FAILED,
      });
    }
  }

  private stop(task: ActionTask, why: keyof typeof STOPS): void {
    if (task.terminal !== null || task.stopping !== null) return;
    const { line, message } = STOPS[why];
    task.stopping = message;
    task.log.append(line);
    task.controller.abort();
    task.graceTimer = setTimeout(() => {
      task.graceTimer = null;
      task.stopping = `${message}; the action did not stop within ${this.killGraceMs} ms`;
      this.finish(task, this.killed(task));
    }, this.killGraceMs);
  }

  private killed(task: ActionTask): TaskStatusUpdate {
    return {
      ...this.update(task.taskId, 'Killed'),
      message: task.stopping ?? 'killed',
      reason: 'KILLED',
    };
  }

  /** Reports the one terminal update of a run, then writes its log to disk. */
  private finish(task: ActionTask, update: TaskStatusUpdate): void {
    if (task.terminal !== null) return;
    if (task.graceTimer) clearTimeout(task.graceTimer);
    task.graceTimer = null;
    task.log.append(update.message ? `${update.state}: ${update.message}` : update.state);
    task.terminal = update;
    task.latest = update;
    this.deliver(update);
    task.resolveDone();
    const persisted = this.persist(task, update).finally(() => this.persisting.delete(persisted));
    this.persisting.add(persisted);
  }

  /** Writes the log, then the record (atomically, last), then frees the memory. */
  private async persist(task: ActionTask, update: TaskStatusUpdate): Promise<void> {
    const record: RunRecord = {
      version: RECORD_VERSION,
      kind: this.kind,
      taskId: task.taskId,
      logSize: task.log.size,
      update,
    };
    const recordPath = this.recordPath(task.taskId);
    try {
      await fsp.mkdir(this.logDir, { recursive: true });
      await fsp.writeFile(this.logPath(task.taskId), task.log.contents());
      await fsp.writeFile(`${recordPath}.tmp`, JSON.stringify(record));
      await fsp.rename(`${recordPath}.tmp`, recordPath);
      this.tasks.delete(task.taskId);
    } catch (error) {
      // The log stays in memory (bounded per run) and is still served from there.
      process.emitWarning(
        `${this.kind} runner: cannot write the log of task ${task.taskId} to ${this.logDir}: ${errorMessage(error)}`,
      );
    }
  }

  private async readRecord(taskId: string): Promise<RunRecord | null> {
    let text: string;
    try {
      text = await fsp.readFile(this.recordPath(taskId), 'utf8');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    return parseRecord(text, taskId, this.kind);
  }

  private logPath(taskId: string): string {
    return path.join(this.logDir, `${taskFileName(taskId)}.log`);
  }

  private recordPath(taskId: string): string {
    return path.join(this.logDir, `${taskFileName(taskId)}.json`);
  }

  private update(taskId: string, state: TaskState): TaskStatusUpdate {
    return {
      taskId,
      state,
      at: new Date(),
      source: 'RUNNER',
      agentId: this.agentId,
      executorId: taskId,
    };
  }

  private deliver(update: TaskStatusUpdate): void {
    try {
      this.listener?.(update);
    } catch (error) {
      // A throwing listener must not leave a run half-ended.
      process.emitWarning(
        `${this.kind} runner: the update listener failed on ${update.state} of task ${update.taskId}: ${errorMessage(error)}`,
      );
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A record of this runner's kind for this task, or null (missing, foreign or unreadable). */
function parseRecord(text: string, taskId: string, kind: string): RunRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  const update = record.update as Record<string, unknown> | null | undefined;
  if (
    record.version !== RECORD_VERSION ||
    record.kind !== kind ||
    record.taskId !== taskId ||
    typeof record.logSize !== 'number' ||
    typeof update !== 'object' ||
    update === null ||
    typeof update.state !== 'string' ||
    typeof update.at !== 'string'
  ) {
    return null;
  }
  const restored = { ...update, taskId, at: new Date(update.at) } as unknown as TaskStatusUpdate;
  return { version: RECORD_VERSION, kind, taskId, logSize: record.logSize, update: restored };
}

/** Duck-typed: errors from Node's internals may come from another realm (e.g. under jest). */
function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}
