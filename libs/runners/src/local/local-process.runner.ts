import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { JobId } from '@rhythm/jobs';
import type {
  RunLaunch,
  Runner,
  TaskLog,
  TaskLogStream,
  TaskState,
  TaskStatusUpdate,
} from '@rhythm/scheduling';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { withoutSecretVariables } from '../secrets/environment-secret-store';
import { resolveJobSecrets } from '../secrets/resolve-job-secrets';
import { SECRET_STORE, type SecretStore } from '../secrets/secret-store.port';
import { TailBuffer } from './tail-buffer';
import {
  isNotFound,
  logWindow,
  pruneKeptFiles,
  readKeptFile,
  taskFileName,
  within,
} from '../kept-output/kept-output';

const execFileAsync = promisify(execFile);

export const LOCAL_RUNNER_OPTIONS = Symbol('LOCAL_RUNNER_OPTIONS');

export interface LocalProcessRunnerOptions {
  /** Where the output of ended tasks is kept; created (recursively) when first needed. */
  readonly logDir: string;
  /** How long a task may take to stop after SIGTERM before its process group gets SIGKILL. */
  readonly killGraceMs?: number;
  /** How many of the last bytes of stdout, and of stderr, are kept per task. */
  readonly keepBytes?: number;
  /** The environment every task starts from; `process.env` when not given. */
  readonly env?: NodeJS.ProcessEnv;
}

const DEFAULT_KILL_GRACE_MS = 5000;
const DEFAULT_KEEP_BYTES = 64 * 1024;
/** After the task's process exited, how long its output pipes may stay open (held by a stray). */
const DRAIN_MS = 1000;
const ID_LOOKUP_TIMEOUT_MS = 5000;
const LOST_MESSAGE = 'the process running this task is gone (Rhythm restarted)';
const TASK_STATES: ReadonlySet<string> = new Set<TaskState>([
  'Staging',
  'Starting',
  'Running',
  'Finished',
  'Failed',
  'Killed',
  'Lost',
]);

/** How a task's process ended, as seen on its `exit` event. */
interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether a kill was asked for before the process exited. */
  readonly killRequested: boolean;
}

/** A task this runner started and whose output is still in memory. */
interface LocalTask {
  readonly taskId: string;
  readonly jobId: JobId;
  readonly stdout: TailBuffer;
  readonly stderr: TailBuffer;
  child: ChildProcess | null;
  /** The process group of the run (the pid of its first process) once spawned. */
  pgid: number | null;
  latest: TaskStatusUpdate | null;
  terminal: TaskStatusUpdate | null;
  killRequested: boolean;
  exit: ExitInfo | null;
  killTimer: NodeJS.Timeout | null;
  drainTimer: NodeJS.Timeout | null;
  /** Resolves once the terminal update was reported. */
  readonly done: Promise<void>;
  readonly resolveDone: () => void;
}

/** What is kept on disk next to the output of an ended task. */
interface Sidecar {
  readonly version: 1;
  readonly taskId: string;
  readonly jobId: JobId | null;
  readonly stdoutSize: number;
  readonly stderrSize: number;
  readonly update: TaskStatusUpdate;
}

/**
 * Runs each task as a child process of Rhythm, on this host.
 *
 * - A task gets its own process group (`detached`); kill and the end of a run act on the whole
 *   group. When the task's first process exits, whatever is left of its group is SIGKILLed, as Mesos
 *   tears down a task's container: a run leaves no strays behind.
 * - `spec.shell` runs `/bin/sh -c cmd` and ignores `arguments`; otherwise `cmd` is executed with
 *   `arguments` as they are, without a shell.
 * - `spec.user` is honoured only when Rhythm runs as root (uid and primary gid from `id`; the
 *   supplementary groups are dropped, and HOME/USER are not changed). Otherwise the task runs as
 *   Rhythm's own user whatever `spec.user` says. Container images and resources are ignored.
 * - Output: the last `keepBytes` bytes of stdout and of stderr are kept in memory while the task
 *   runs, then written to `logDir` (`<task>.stdout`, `<task>.stderr` and a `<task>.json` sidecar
 *   with the total sizes and the terminal update), so logs and reconciliation survive a restart.
 *   Log offsets count bytes; a window cut inside a multi-byte character decodes it as U+FFFD.
 * - Updates are delivered synchronously, in order, possibly before `launch()` resolves.
 */
@RhythmRunner({ kind: 'local' })
@Injectable()
export class LocalProcessRunner implements Runner {
  readonly kind = 'local';

  private readonly logDir: string;
  private readonly killGraceMs: number;
  private readonly keepBytes: number;
  private readonly baseEnv: NodeJS.ProcessEnv;
  private readonly agentId = os.hostname();
  private listener: ((update: TaskStatusUpdate) => void) | null = null;
  /** Tasks being launched, running, or ended with their output not yet on disk. */
  private readonly tasks = new Map<string, LocalTask>();
  private readonly persisting = new Set<Promise<void>>();
  private closed = false;

  constructor(
    @Inject(LOCAL_RUNNER_OPTIONS) options: LocalProcessRunnerOptions,
    @Optional() @Inject(SECRET_STORE) private readonly secrets?: SecretStore,
  ) {
    const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const keepBytes = options.keepBytes ?? DEFAULT_KEEP_BYTES;
    if (!Number.isFinite(killGraceMs) || killGraceMs < 0) {
      throw new RangeError(`killGraceMs must be a non-negative number, got ${killGraceMs}`);
    }
    if (!Number.isSafeInteger(keepBytes) || keepBytes < 0) {
      throw new RangeError(`keepBytes must be a non-negative integer, got ${keepBytes}`);
    }
    this.logDir = options.logDir;
    this.killGraceMs = killGraceMs;
    this.keepBytes = keepBytes;
    // Tasks get no other project's secrets, nor the Vault token, from this process's environment.
    this.baseEnv = withoutSecretVariables(options.env ?? process.env);
  }

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  async launch(run: RunLaunch): Promise<void> {
    const { taskId, spec } = run;
    this.assertLaunchable(taskId);
    // Computed before the task is accepted: an invalid scheduledAt is the caller's error.
    // A secret that cannot be read rejects the launch: the run is recorded failed with the reason.
    const secrets = this.secrets
      ? await resolveJobSecrets(this.secrets, run.jobId, spec.secrets)
      : {};
    const env: NodeJS.ProcessEnv = {
      ...this.baseEnv,
      ...spec.env,
      ...secrets,
      RHYTHM_TASK_ID: taskId,
      RHYTHM_SCHEDULED_TIME: run.scheduledAt.toISOString(),
    };
    if (await exists(this.sidecarPath(taskId))) {
      throw new Error(`task ${taskId} already ran here: its logs are in ${this.logDir}`);
    }
    this.assertLaunchable(taskId);

    const task = this.newTask(taskId, run.jobId);
    this.tasks.set(taskId, task);

    let credentials: { uid: number; gid: number } | undefined;
    try {
      credentials = await credentialsFor(spec.user);
    } catch (error) {
      this.finish(task, this.launchFailed(task, errorMessage(error)));
      return;
    }
    if (task.killRequested) {
      this.finish(task, {
        ...this.update(task, 'Killed'),
        exitCode: null,
        message: 'killed before it started',
        reason: 'KILLED',
        source: 'RUNNER',
      });
      return;
    }

    const [file, args] = spec.shell ? ['/bin/sh', ['-c', spec.cmd]] : [spec.cmd, spec.arguments];
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
        ...credentials,
      });
    } catch (error) {
      this.finish(task, this.launchFailed(task, errorMessage(error)));
      return;
    }
    task.child = child;
    task.pgid = child.pid ?? null;
    this.emit(task, this.update(task, 'Starting'));

    child.stdout?.on('data', (chunk: Buffer) => task.stdout.write(chunk));
    child.stderr?.on('data', (chunk: Buffer) => task.stderr.write(chunk));
    let spawned = false;
    await new Promise<void>((resolve) => {
      child.once('spawn', () => {
        spawned = true;
        if (task.terminal === null) this.emit(task, this.update(task, 'Running'));
        resolve();
      });
      child.on('error', (error) => {
        // After a successful spawn, errors are about signalling, which this runner does itself.
        if (spawned) return;
        child.stdout?.destroy();
        child.stderr?.destroy();
        this.finish(task, this.launchFailed(task, error.message));
        resolve();
      });
      child.once('exit', (code, signal) => this.onExit(task, code, signal));
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        task.exit ??= { code, signal, killRequested: task.killRequested };
        this.finishFromExit(task);
      });
    });
  }

  async kill(taskId: string): Promise<void> {
    const task = this.tasks.get(taskId);
    if (!task || task.terminal !== null || task.exit !== null || task.killRequested) return;
    task.killRequested = true;
    // Not spawned yet: launch() reports Killed instead of spawning (or Failed if spawning failed).
    if (task.pgid === null) return;
    signalGroup(task.pgid, 'SIGTERM');
    task.killTimer = setTimeout(() => {
      task.killTimer = null;
      if (task.exit === null && task.pgid !== null) signalGroup(task.pgid, 'SIGKILL');
    }, this.killGraceMs);
  }

  async reconcile(taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) {
      const task = this.tasks.get(taskId);
      if (task) {
        // A task still resolving its user has no update yet: it is being staged.
        this.deliver(task.latest ?? this.update(task, 'Staging'));
        continue;
      }
      const sidecar = await this.readSidecar(taskId);
      this.deliver(
        sidecar?.update ?? {
          taskId,
          state: 'Lost',
          at: new Date(),
          exitCode: null,
          message: LOST_MESSAGE,
          reason: 'REASON_RECONCILIATION',
          source: 'RUNNER',
          agentId: this.agentId,
          executorId: taskId,
        },
      );
    }
  }

  async readLogs(
    taskId: string,
    stream: TaskLogStream,
    range: { readonly offset?: number; readonly length?: number } = {},
  ): Promise<TaskLog | null> {
    const task = this.tasks.get(taskId);
    if (task) {
      const buffer = task[stream];
      return logWindow(buffer.contents(), buffer.size, range);
    }
    const sidecar = await this.readSidecar(taskId);
    if (!sidecar) return null;
    const kept = await readKeptFile(`${this.basePath(taskId)}.${stream}`);
    const size = stream === 'stdout' ? sidecar.stdoutSize : sidecar.stderrSize;
    return logWindow(kept, size, range);
  }

  /** Deletes kept logs last modified more than `maxAgeMs` ago; returns how many files went. */
  pruneLogs(maxAgeMs: number): Promise<number> {
    return pruneKeptFiles(this.logDir, /\.(stdout|stderr|json|json\.tmp)$/, maxAgeMs);
  }

  /**
   * Stops accepting launches, kills every running task (SIGTERM, SIGKILL after the grace) and
   * resolves once they ended and their output was written, or after the grace plus one second.
   */
  async close(): Promise<void> {
    this.closed = true;
    const live = [...this.tasks.values()].filter((task) => task.terminal === null);
    await Promise.all(live.map((task) => this.kill(task.taskId)));
    await within(
      this.killGraceMs + 1000,
      Promise.all(live.map((task) => task.done)).then(() => Promise.all([...this.persisting])),
    );
  }

  private assertLaunchable(taskId: string): void {
    if (this.closed) throw new Error('the local runner is closed');
    if (this.tasks.has(taskId)) throw new Error(`task ${taskId} was already launched`);
  }

  private newTask(taskId: string, jobId: JobId): LocalTask {
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    return {
      taskId,
      jobId,
      stdout: new TailBuffer(this.keepBytes),
      stderr: new TailBuffer(this.keepBytes),
      child: null,
      pgid: null,
      latest: null,
      terminal: null,
      killRequested: false,
      exit: null,
      killTimer: null,
      drainTimer: null,
      done,
      resolveDone,
    };
  }

  private onExit(task: LocalTask, code: number | null, signal: NodeJS.Signals | null): void {
    task.exit = { code, signal, killRequested: task.killRequested };
    if (task.killTimer) clearTimeout(task.killTimer);
    task.killTimer = null;
    // The run is over: whatever it left running in its group goes too.
    if (task.pgid !== null) signalGroup(task.pgid, 'SIGKILL');
    // `close` follows once the output pipes are drained; a stray outside the group may hold them.
    task.drainTimer = setTimeout(() => {
      task.drainTimer = null;
      task.child?.stdout?.destroy();
      task.child?.stderr?.destroy();
      this.finishFromExit(task);
    }, DRAIN_MS);
  }

  private finishFromExit(task: LocalTask): void {
    const exit = task.exit;
    if (exit === null || task.terminal !== null) return;
    const { code, signal } = exit;
    const base = this.update(task, 'Finished');
    if (exit.killRequested) {
      this.finish(task, {
        ...base,
        state: 'Killed',
        exitCode: code,
        message: signal
          ? `killed by ${signal}`
          : `exited with code ${code} after it was asked to stop`,
        reason: 'KILLED',
        source: 'RUNNER',
      });
    } else if (code === 0) {
      this.finish(task, { ...base, exitCode: 0, message: '', reason: '', source: '' });
    } else if (code !== null) {
      this.finish(task, {
        ...base,
        state: 'Failed',
        exitCode: code,
        message: `exited with code ${code}`,
        reason: 'EXIT_CODE',
        source: 'RUNNER',
      });
    } else {
      this.finish(task, {
        ...base,
        state: 'Failed',
        exitCode: null,
        message: `terminated by signal ${signal ?? 'unknown'}`,
        reason: 'SIGNAL',
        source: 'RUNNER',
      });
    }
  }

  /** Reports the one terminal update of a task, then writes its output to disk. */
  private finish(task: LocalTask, update: TaskStatusUpdate): void {
    if (task.terminal !== null) return;
    task.terminal = update;
    if (task.killTimer) clearTimeout(task.killTimer);
    if (task.drainTimer) clearTimeout(task.drainTimer);
    task.killTimer = null;
    task.drainTimer = null;
    this.emit(task, update);
    task.resolveDone();
    const persisted = this.persist(task, update).finally(() => this.persisting.delete(persisted));
    this.persisting.add(persisted);
  }

  /** Writes the kept output and the sidecar (last, atomically), then frees the memory. */
  private async persist(task: LocalTask, update: TaskStatusUpdate): Promise<void> {
    const base = this.basePath(task.taskId);
    const sidecar: Sidecar = {
      version: 1,
      taskId: task.taskId,
      jobId: { group: task.jobId.group, project: task.jobId.project, id: task.jobId.id },
      stdoutSize: task.stdout.size,
      stderrSize: task.stderr.size,
      update,
    };
    try {
      await fsp.mkdir(this.logDir, { recursive: true });
      await fsp.writeFile(`${base}.stdout`, task.stdout.contents());
      await fsp.writeFile(`${base}.stderr`, task.stderr.contents());
      await fsp.writeFile(`${base}.json.tmp`, JSON.stringify(sidecar));
      await fsp.rename(`${base}.json.tmp`, `${base}.json`);
      this.tasks.delete(task.taskId);
    } catch (error) {
      // The output stays in memory (bounded per task) and is still served from there.
      process.emitWarning(
        `local runner: cannot write the logs of task ${task.taskId} to ${this.logDir}: ${errorMessage(error)}`,
      );
    }
  }

  private async readSidecar(taskId: string): Promise<Sidecar | null> {
    let text: string;
    try {
      text = await fsp.readFile(this.sidecarPath(taskId), 'utf8');
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    return parseSidecar(text, taskId);
  }

  private basePath(taskId: string): string {
    return path.join(this.logDir, taskFileName(taskId));
  }

  private sidecarPath(taskId: string): string {
    return `${this.basePath(taskId)}.json`;
  }

  private update(task: LocalTask, state: TaskState): TaskStatusUpdate {
    return {
      taskId: task.taskId,
      state,
      at: new Date(),
      agentId: this.agentId,
      executorId: task.taskId,
    };
  }

  private launchFailed(task: LocalTask, message: string): TaskStatusUpdate {
    return {
      ...this.update(task, 'Failed'),
      exitCode: null,
      message,
      reason: 'LAUNCH_FAILED',
      source: 'RUNNER',
    };
  }

  private emit(task: LocalTask, update: TaskStatusUpdate): void {
    task.latest = update;
    this.deliver(update);
  }

  private deliver(update: TaskStatusUpdate): void {
    try {
      this.listener?.(update);
    } catch (error) {
      // A throwing listener must not leave a task half-ended (or crash Rhythm from an event).
      process.emitWarning(
        `local runner: the update listener failed on ${update.state} of task ${update.taskId}: ${errorMessage(error)}`,
      );
    }
  }
}

/** Root can run a task as another user; anyone else runs it as themselves. */
async function credentialsFor(user: string): Promise<{ uid: number; gid: number } | undefined> {
  if (user === '' || process.getuid?.() !== 0) return undefined;
  if (user === os.userInfo().username) return undefined;
  const [uid, gid] = await Promise.all([idOf(user, '-u'), idOf(user, '-g')]);
  return { uid, gid };
}

async function idOf(user: string, flag: '-u' | '-g'): Promise<number> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('id', [flag, '--', user], {
      timeout: ID_LOOKUP_TIMEOUT_MS,
    }));
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail =
      typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : errorMessage(error);
    throw new Error(`cannot run as user '${user}': ${detail}`);
  }
  const id = Number(stdout.trim());
  if (stdout.trim() === '' || !Number.isSafeInteger(id) || id < 0) {
    throw new Error(`cannot run as user '${user}': id printed '${stdout.trim()}'`);
  }
  return id;
}

/** Signals every process of a group; a group that is gone already (ESRCH) is fine. */
function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left to signal. EPERM cannot be ours: the group is no longer the task's.
  }
}

function parseSidecar(text: string, taskId: string): Sidecar | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const sidecar = value as Record<string, unknown>;
  const update = sidecar.update as Record<string, unknown> | null | undefined;
  if (
    sidecar.taskId !== taskId ||
    typeof sidecar.stdoutSize !== 'number' ||
    typeof sidecar.stderrSize !== 'number' ||
    typeof update !== 'object' ||
    update === null ||
    typeof update.state !== 'string' ||
    !TASK_STATES.has(update.state) ||
    typeof update.at !== 'string'
  ) {
    return null;
  }
  const restored: Record<string, unknown> = { ...update, taskId, at: new Date(update.at) };
  return {
    version: 1,
    taskId,
    jobId: parseJobId(sidecar.jobId),
    stdoutSize: sidecar.stdoutSize,
    stderrSize: sidecar.stderrSize,
    update: restored as unknown as TaskStatusUpdate,
  };
}

function parseJobId(value: unknown): JobId | null {
  if (typeof value !== 'object' || value === null) return null;
  const { group, project, id } = value as Record<string, unknown>;
  if (typeof group !== 'string' || typeof project !== 'string' || typeof id !== 'string') {
    return null;
  }
  return { group, project, id };
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.access(file);
    return true;
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
