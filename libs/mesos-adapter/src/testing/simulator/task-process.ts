import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandInfo } from '../../infrastructure/wire/mesos-messages';

/**
 * What the command executor does with a `CommandInfo`: `shell` (the default) runs
 * `/bin/sh -c <value>`, otherwise `value` is executed with `arguments` as its argv (argv[0]
 * included). Output goes to `stdout` and `stderr` in the sandbox. Containers are not created: a
 * DOCKER or MESOS image is ignored and the command runs as a plain local process.
 */

export interface TaskExit {
  /** Exit code when the process exited, else null. */
  code: number | null;
  /** Signal that ended the process, else null. */
  signal: NodeJS.Signals | null;
}

export interface LaunchSpec {
  command: CommandInfo;
  /** Sandbox directory (cwd, stdout, stderr); null for the instant runner. */
  sandbox: string | null;
  env: Record<string, string>;
}

export interface TaskHooks {
  onStarted(pid: number | undefined): void;
  onExit(exit: TaskExit): void;
}

export interface RunningTask {
  readonly pid: number | undefined;
  /** SIGTERM, then SIGKILL after the grace period (the command executor's kill policy). */
  kill(gracePeriodMs: number): void;
  /** Sends a signal to the whole process group (tests use it to crash a task). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves once the task has exited. */
  readonly exited: Promise<void>;
}

export interface TaskRunner {
  start(spec: LaunchSpec, hooks: TaskHooks): RunningTask;
}

/** Exit code a shell gives for a command it cannot execute; used when spawning fails. */
const CANNOT_EXECUTE = 127;

export class ProcessTaskRunner implements TaskRunner {
  start(spec: LaunchSpec, hooks: TaskHooks): RunningTask {
    const sandbox = spec.sandbox ?? process.cwd();
    const stdout = openSync(join(sandbox, 'stdout'), 'a');
    const stderr = openSync(join(sandbox, 'stderr'), 'a');
    const { file, args, argv0 } = commandLine(spec.command);
    const spawnChild = () => {
      try {
        return spawn(file, args, {
          cwd: sandbox,
          env: spec.env,
          argv0,
          stdio: ['ignore', stdout, stderr],
          // Own process group, so a kill reaches what the shell started too.
          detached: true,
        });
      } finally {
        // The child holds its own copies of the descriptors.
        closeSync(stdout);
        closeSync(stderr);
      }
    };
    return new ChildProcessTask(spawnChild(), sandbox, file, hooks);
  }
}

class ChildProcessTask implements RunningTask {
  readonly exited: Promise<void>;
  private done = false;
  private killTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly child: ReturnType<typeof spawn>,
    sandbox: string,
    file: string,
    hooks: TaskHooks,
  ) {
    let resolveExited: () => void = () => undefined;
    this.exited = new Promise((resolve) => (resolveExited = resolve));
    const finish = (exit: TaskExit) => {
      if (this.done) return;
      this.done = true;
      if (this.killTimer !== null) clearTimeout(this.killTimer);
      // The container goes away with its executor: nothing the task started outlives it.
      this.signal('SIGKILL');
      hooks.onExit(exit);
      resolveExited();
    };
    child.once('spawn', () => hooks.onStarted(child.pid));
    child.once('error', (error) => {
      appendFileSync(join(sandbox, 'stderr'), `Failed to execute '${file}': ${error.message}\n`);
      finish({ code: CANNOT_EXECUTE, signal: null });
    });
    child.once('exit', (code, signal) => finish({ code, signal }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(gracePeriodMs: number): void {
    if (this.done) return;
    this.signal('SIGTERM');
    if (this.killTimer === null) {
      this.killTimer = setTimeout(() => this.signal('SIGKILL'), gracePeriodMs);
    }
  }

  signal(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }
}

/** Finishes every task after a fixed time without starting a process (benchmarks). */
export class InstantTaskRunner implements TaskRunner {
  constructor(private readonly durationMs: number) {}

  start(_spec: LaunchSpec, hooks: TaskHooks): RunningTask {
    let resolveExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => (resolveExited = resolve));
    let done = false;
    const finish = (exit: TaskExit) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      hooks.onExit(exit);
      resolveExited();
    };
    const timer = setTimeout(() => finish({ code: 0, signal: null }), this.durationMs);
    setImmediate(() => {
      if (!done) hooks.onStarted(undefined);
    });
    return {
      pid: undefined,
      exited,
      kill: () => finish({ code: null, signal: 'SIGTERM' }),
      signal: (signal) => finish({ code: null, signal }),
    };
  }
}

function commandLine(command: CommandInfo): { file: string; args: string[]; argv0: string } {
  const value = command.value ?? '';
  if (command.shell ?? true) return { file: '/bin/sh', args: ['-c', value], argv0: 'sh' };
  const argv = command.arguments ?? [];
  return { file: value, args: argv.slice(1), argv0: argv[0] ?? value };
}

const SIGNAL_DESCRIPTIONS: Partial<Record<NodeJS.Signals, string>> = {
  SIGHUP: 'Hangup',
  SIGINT: 'Interrupt',
  SIGQUIT: 'Quit',
  SIGILL: 'Illegal instruction',
  SIGABRT: 'Aborted',
  SIGFPE: 'Floating point exception',
  SIGKILL: 'Killed',
  SIGSEGV: 'Segmentation fault',
  SIGPIPE: 'Broken pipe',
  SIGALRM: 'Alarm clock',
  SIGTERM: 'Terminated',
  SIGUSR1: 'User defined signal 1',
  SIGUSR2: 'User defined signal 2',
};

/** The command executor's status message: `WSTRINGIFY` of the wait status. */
export function describeExit(exit: TaskExit): string {
  if (exit.signal !== null) {
    return `Command terminated with signal ${SIGNAL_DESCRIPTIONS[exit.signal] ?? exit.signal}`;
  }
  return `Command exited with status ${exit.code ?? 0}`;
}
