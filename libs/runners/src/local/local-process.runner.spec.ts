import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JobSpec } from '@rhythm/jobs';
import type { RunLaunch, TaskStatusUpdate } from '@rhythm/scheduling';
import { EnvironmentSecretStore, secretVariableName } from '../secrets/environment-secret-store';
import { LocalProcessRunner, type LocalProcessRunnerOptions } from './local-process.runner';

const TERMINAL = new Set(['Finished', 'Failed', 'Killed', 'Lost']);
const SCHEDULED_AT = new Date('2026-03-04T05:06:00.000Z');

const BASE_SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '*/1 * * * *' },
  env: {},
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine:3.8', forcePullImage: false } },
  cpus: 1,
  mem: 128,
  disk: 0,
  cmd: 'true',
  user: '',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

let taskCounter = 0;

function launchOf(spec: Partial<JobSpec>, taskId = nextTaskId()): RunLaunch {
  return {
    taskId,
    jobId: { group: 'grp', project: 'proj', id: 'job' },
    spec: { ...BASE_SPEC, ...spec },
    scheduledAt: SCHEDULED_AT,
    attempt: 1,
    options: {},
  };
}

function nextTaskId(): string {
  taskCounter += 1;
  return `grp:proj:job:1772600760000:task-${taskCounter}`;
}

/** Polls until `probe` yields a value; fails after `timeoutMs`. */
async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Processes of a group that are still alive (zombies, left for a non-reaping init, don't count). */
function liveGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') {
      members.push(Number(entry));
    }
  }
  return members;
}

describe('LocalProcessRunner', () => {
  let logDir = '';
  let updates: TaskStatusUpdate[] = [];
  const runners: LocalProcessRunner[] = [];

  function newRunner(options: Partial<LocalProcessRunnerOptions> = {}): LocalProcessRunner {
    const runner = new LocalProcessRunner({ logDir, killGraceMs: 2000, ...options });
    runner.onUpdate((update) => updates.push(update));
    runners.push(runner);
    return runner;
  }

  function updatesOf(taskId: string): TaskStatusUpdate[] {
    return updates.filter((update) => update.taskId === taskId);
  }

  function terminalOf(taskId: string, timeoutMs?: number): Promise<TaskStatusUpdate> {
    return waitFor(
      `the end of ${taskId}`,
      () => updatesOf(taskId).find((update) => TERMINAL.has(update.state)),
      timeoutMs,
    );
  }

  async function run(
    runner: LocalProcessRunner,
    spec: Partial<JobSpec>,
  ): Promise<{ taskId: string; end: TaskStatusUpdate }> {
    const launch = launchOf(spec);
    await runner.launch(launch);
    return { taskId: launch.taskId, end: await terminalOf(launch.taskId) };
  }

  /** Starts a shell command that prints its pid (= its process group) and returns that pid. */
  async function startGroup(
    runner: LocalProcessRunner,
    script: string,
  ): Promise<{ taskId: string; pgid: number }> {
    const launch = launchOf({ cmd: `echo $$; ${script}` });
    await runner.launch(launch);
    const pgid = await waitFor('the pid of the shell', async () => {
      const log = await runner.readLogs(launch.taskId, 'stdout');
      const match = /^(\d+)\n/.exec(log?.data ?? '');
      return match ? Number(match[1]) : undefined;
    });
    return { taskId: launch.taskId, pgid };
  }

  beforeEach(() => {
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-local-runner-'));
    updates = [];
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.close()));
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  it('runs a shell command: Starting, Running, Finished, with its output', async () => {
    const runner = newRunner();
    const { taskId, end } = await run(runner, { cmd: 'echo hello' });

    expect(updatesOf(taskId).map((update) => update.state)).toEqual([
      'Starting',
      'Running',
      'Finished',
    ]);
    expect(end).toMatchObject({
      taskId,
      state: 'Finished',
      exitCode: 0,
      message: '',
      reason: '',
      source: '',
      agentId: os.hostname(),
      executorId: taskId,
    });
    expect(end.at).toBeInstanceOf(Date);
    expect(await runner.readLogs(taskId, 'stdout')).toEqual({
      offset: 0,
      data: 'hello\n',
      size: 6,
    });
    expect(await runner.readLogs(taskId, 'stderr')).toEqual({ offset: 0, data: '', size: 0 });
  });

  it('gives the task the base environment, the job environment and the RHYTHM_ variables', async () => {
    const runner = newRunner({
      env: { PATH: process.env.PATH, FROM_BASE: 'base', OVERRIDDEN: 'base' },
    });
    const { taskId, end } = await run(runner, {
      cmd: 'printf "%s\\n" "$RHYTHM_TASK_ID" "$RHYTHM_SCHEDULED_TIME" "$MixedCase" "$mixedcase" "$FROM_BASE" "$OVERRIDDEN"',
      env: { MixedCase: 'upper', mixedcase: 'lower', OVERRIDDEN: 'job' },
    });

    expect(end.state).toBe('Finished');
    const log = await runner.readLogs(taskId, 'stdout');
    expect(log?.data.split('\n')).toEqual([
      taskId,
      '2026-03-04T05:06:00.000Z',
      'upper',
      'lower',
      'base',
      'job',
      '',
    ]);
  });

  it("gives the task its job's secrets, and no other secret of the runner's environment", async () => {
    const jobId = { group: 'grp', project: 'proj', id: 'job' };
    const own = secretVariableName(jobId, 'db/password') ?? 'missing';
    const other = secretVariableName({ ...jobId, project: 'other' }, 'db/password') ?? 'missing';
    const env = { PATH: process.env.PATH, [own]: 's3cret', [other]: 'not-yours', VAULT_TOKEN: 't' };
    const runner = new LocalProcessRunner(
      { logDir, killGraceMs: 2000, env },
      new EnvironmentSecretStore({ env }),
    );
    runner.onUpdate((update) => updates.push(update));
    runners.push(runner);
    const { taskId, end } = await run(runner, {
      cmd: `printf "%s|%s|%s|%s\\n" "$DB_PASSWORD" "\${${own}:-}" "\${${other}:-}" "\${VAULT_TOKEN:-}"`,
      secrets: { DB_PASSWORD: 'db/password' },
    });
    expect(end.state).toBe('Finished');
    expect((await runner.readLogs(taskId, 'stdout'))?.data).toBe('s3cret|||\n');
  });

  it('fails the launch with the reason when a secret cannot be read, without the value', async () => {
    const runner = new LocalProcessRunner(
      { logDir, killGraceMs: 2000, env: { PATH: process.env.PATH } },
      new EnvironmentSecretStore({ env: {} }),
    );
    await expect(
      runner.launch(launchOf({ cmd: 'true', secrets: { DB_PASSWORD: 'db/password' } })),
    ).rejects.toThrow(/^Reading secret failed for DB_PASSWORD: secret not found: db\/password/);
  });

  it('runs a command without a shell, passing the arguments as they are', async () => {
    const runner = newRunner();
    const { taskId, end } = await run(runner, {
      shell: false,
      cmd: '/bin/echo',
      arguments: ['a b', 'c', '$HOME'],
    });

    expect(end.state).toBe('Finished');
    expect((await runner.readLogs(taskId, 'stdout'))?.data).toBe('a b c $HOME\n');
  });

  it('ignores the arguments of a shell command', async () => {
    const runner = newRunner();
    const { taskId } = await run(runner, { cmd: 'echo "[$0|$1]"', arguments: ['x', 'y'] });

    expect((await runner.readLogs(taskId, 'stdout'))?.data).toBe('[/bin/sh|]\n');
  });

  it('reports a non-zero exit as Failed with the exit code, and keeps stderr', async () => {
    const runner = newRunner();
    const { taskId, end } = await run(runner, { cmd: 'echo oops >&2; exit 3' });

    expect(end).toMatchObject({
      state: 'Failed',
      exitCode: 3,
      message: 'exited with code 3',
      reason: 'EXIT_CODE',
      source: 'RUNNER',
    });
    expect(await runner.readLogs(taskId, 'stderr')).toEqual({
      offset: 0,
      data: 'oops\n',
      size: 5,
    });
  });

  it('reports a process ended by a signal it was not sent by the runner as Failed', async () => {
    const runner = newRunner();
    const { end } = await run(runner, { cmd: 'kill -USR1 $$; sleep 5' });

    expect(end).toMatchObject({
      state: 'Failed',
      exitCode: null,
      message: 'terminated by signal SIGUSR1',
      reason: 'SIGNAL',
      source: 'RUNNER',
    });
  });

  it('reports a missing executable as Failed with LAUNCH_FAILED, without rejecting', async () => {
    const runner = newRunner();
    const launch = launchOf({ shell: false, cmd: '/nonexistent/x' });

    await expect(runner.launch(launch)).resolves.toBeUndefined();
    const end = await terminalOf(launch.taskId);

    expect(end).toMatchObject({ state: 'Failed', exitCode: null, reason: 'LAUNCH_FAILED' });
    expect(end.message).toContain('ENOENT');
    expect(await runner.readLogs(launch.taskId, 'stdout')).toEqual({
      offset: 0,
      data: '',
      size: 0,
    });
  });

  it('runs as the job user when root, and fails the launch for an unknown user', async () => {
    const runner = newRunner();
    const missing = await run(runner, { cmd: 'id -u', user: 'no-such-user-rhythm' });
    const nobody = await run(runner, { cmd: 'id -u', user: 'nobody' });

    const isRoot = process.getuid?.() === 0;
    const expectedUid = isRoot ? execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }) : '';
    if (isRoot) {
      expect(missing.end).toMatchObject({ state: 'Failed', reason: 'LAUNCH_FAILED' });
      expect(missing.end.message).toContain("cannot run as user 'no-such-user-rhythm'");
      expect(updatesOf(missing.taskId).map((update) => update.state)).toEqual(['Failed']);
      expect((await runner.readLogs(nobody.taskId, 'stdout'))?.data).toBe(expectedUid);
    } else {
      // Not root: the job's user cannot be taken on; the task runs as Rhythm's user.
      expect(missing.end.state).toBe('Finished');
      expect((await runner.readLogs(nobody.taskId, 'stdout'))?.data).toBe(
        `${process.getuid?.()}\n`,
      );
    }
  });

  it('kills the whole process group of a task and reports Killed', async () => {
    const runner = newRunner({ killGraceMs: 2000 });
    const { taskId, pgid } = await startGroup(runner, 'sleep 30 & sleep 30; wait');
    expect(liveGroupMembers(pgid).length).toBeGreaterThanOrEqual(2);
    expect(updatesOf(taskId).at(-1)?.state).toBe('Running');

    await runner.kill(taskId);
    // SIGTERM suffices here: the end comes within the grace.
    const end = await terminalOf(taskId, 2000);

    expect(end).toMatchObject({
      state: 'Killed',
      message: 'killed by SIGTERM',
      reason: 'KILLED',
      source: 'RUNNER',
    });
    await waitFor(
      'the process group to be gone',
      () => (liveGroupMembers(pgid).length === 0 ? true : undefined),
      2000,
    );
  });

  it('SIGKILLs a task that ignores SIGTERM once the grace is over', async () => {
    const runner = newRunner({ killGraceMs: 300 });
    const { taskId, pgid } = await startGroup(runner, "trap '' TERM; echo ready; sleep 30");
    await waitFor('the trap to be set', async () =>
      (await runner.readLogs(taskId, 'stdout'))?.data.includes('ready') ? true : undefined,
    );

    await runner.kill(taskId);
    // The grace (300 ms), then SIGKILL: well within a second and a half.
    const end = await terminalOf(taskId, 1500);

    expect(end).toMatchObject({ state: 'Killed', exitCode: null, message: 'killed by SIGKILL' });
    await waitFor(
      'the process group to be gone',
      () => (liveGroupMembers(pgid).length === 0 ? true : undefined),
      2000,
    );
  });

  it('kills what a finished task left running in its group', async () => {
    const runner = newRunner();
    const launch = launchOf({ cmd: 'echo $$; sleep 30 > /dev/null 2>&1 & exit 0' });
    await runner.launch(launch);
    const end = await terminalOf(launch.taskId);
    const pgid = Number((await runner.readLogs(launch.taskId, 'stdout'))?.data.trim());

    expect(end.state).toBe('Finished');
    await waitFor(
      'the stray to be gone',
      () => (liveGroupMembers(pgid).length === 0 ? true : undefined),
      2000,
    );
  });

  it('keeps only the tail of a large output and serves windows of it', async () => {
    const runner = newRunner({ keepBytes: 65536 });
    // 20 000 lines of 10 bytes: 200 000 bytes.
    const { taskId, end } = await run(runner, {
      cmd: 'i=0; while [ $i -lt 20000 ]; do printf "%09d\\n" $i; i=$((i+1)); done',
    });
    const full = Array.from({ length: 20000 }, (_, i) => `${String(i).padStart(9, '0')}\n`).join(
      '',
    );
    const start = 200_000 - 65536;

    expect(end.state).toBe('Finished');
    const check = async (reader: LocalProcessRunner): Promise<void> => {
      expect(await reader.readLogs(taskId, 'stdout')).toEqual({
        offset: start,
        data: full.slice(start),
        size: 200_000,
      });
      expect(await reader.readLogs(taskId, 'stdout', { offset: 0, length: 10 })).toEqual({
        offset: start,
        data: full.slice(start, start + 10),
        size: 200_000,
      });
      expect(await reader.readLogs(taskId, 'stdout', { offset: 199_990, length: 5 })).toEqual({
        offset: 199_990,
        data: '00001',
        size: 200_000,
      });
      expect(await reader.readLogs(taskId, 'stdout', { offset: 150_000 })).toEqual({
        offset: 150_000,
        data: full.slice(150_000),
        size: 200_000,
      });
      expect(await reader.readLogs(taskId, 'stdout', { offset: 300_000 })).toEqual({
        offset: 200_000,
        data: '',
        size: 200_000,
      });
    };
    await check(runner);
    await runner.close();
    // What went to disk holds the same window.
    expect(fs.statSync(path.join(logDir, `${encodeURIComponent(taskId)}.stdout`)).size).toBe(65536);
    await check(newRunner({ keepBytes: 65536 }));
  });

  it('serves the output of a running task from memory', async () => {
    const runner = newRunner();
    const launch = launchOf({ cmd: 'echo first; echo second >&2; sleep 30' });
    await runner.launch(launch);

    const log = await waitFor('the output', async () => {
      const stderr = await runner.readLogs(launch.taskId, 'stderr');
      return stderr?.data === 'second\n' ? stderr : undefined;
    });
    expect(log).toEqual({ offset: 0, data: 'second\n', size: 7 });
    expect(await runner.readLogs(launch.taskId, 'stdout', { offset: 2, length: 3 })).toEqual({
      offset: 2,
      data: 'rst',
      size: 6,
    });
  });

  it('serves logs and reconciles ended tasks after a restart, on the same log directory', async () => {
    const first = newRunner();
    const { taskId, end } = await run(first, { cmd: 'echo kept; echo err >&2; exit 4' });
    await first.close();

    const second = newRunner();
    expect(await second.readLogs(taskId, 'stdout')).toEqual({ offset: 0, data: 'kept\n', size: 5 });
    expect(await second.readLogs(taskId, 'stderr')).toEqual({ offset: 0, data: 'err\n', size: 4 });
    expect(await second.readLogs('grp:proj:job:0:never-ran', 'stdout')).toBeNull();

    updates = [];
    await second.reconcile([taskId]);
    expect(updates).toEqual([end]);
  });

  it('reconciles: Running for a running task, the end for an ended one, Lost for an unknown one', async () => {
    const runner = newRunner();
    const running = launchOf({ cmd: 'sleep 30' });
    await runner.launch(running);
    const ended = await run(runner, { cmd: 'true' });
    const unknown = 'grp:proj:job:0:from-before-a-restart';

    updates = [];
    await runner.reconcile([running.taskId, ended.taskId, unknown]);

    expect(updates).toHaveLength(3);
    expect(updates[0]).toMatchObject({ taskId: running.taskId, state: 'Running' });
    expect(updates[1]).toEqual(ended.end);
    expect(updates[2]).toMatchObject({
      taskId: unknown,
      state: 'Lost',
      message: 'the process running this task is gone (Rhythm restarted)',
      reason: 'REASON_RECONCILIATION',
      source: 'RUNNER',
    });
  });

  it('reports exactly one terminal update per task', async () => {
    const runner = newRunner({ killGraceMs: 300 });
    const launches = [
      launchOf({ cmd: 'true' }),
      launchOf({ cmd: 'exit 1' }),
      launchOf({ shell: false, cmd: '/nonexistent/y' }),
      launchOf({ cmd: 'sleep 30' }),
      launchOf({ cmd: "trap '' TERM; sleep 30" }),
    ];
    for (const launch of launches) await runner.launch(launch);
    const [, , , sleeper, stubborn] = launches;
    await Promise.all([runner.kill(sleeper.taskId), runner.kill(sleeper.taskId)]);
    await runner.kill(stubborn.taskId);
    for (const launch of launches) await terminalOf(launch.taskId);
    await runner.kill(launches[0].taskId);
    await runner.close();

    for (const launch of launches) {
      const terminal = updatesOf(launch.taskId).filter((update) => TERMINAL.has(update.state));
      expect(terminal).toHaveLength(1);
      // Nothing after the end.
      expect(updatesOf(launch.taskId).at(-1)).toBe(terminal[0]);
    }
  });

  it('kills running tasks on close and resolves once they ended', async () => {
    const runner = newRunner({ killGraceMs: 300 });
    const launch = launchOf({ cmd: "trap '' TERM; sleep 30" });
    await runner.launch(launch);

    await runner.close();

    expect(updatesOf(launch.taskId).at(-1)?.state).toBe('Killed');
    await expect(runner.launch(launchOf({ cmd: 'true' }))).rejects.toThrow(/closed/);
  });

  it('rejects a duplicate task id and ignores kills of unknown tasks', async () => {
    const runner = newRunner();
    const launch = launchOf({ cmd: 'sleep 30' });
    await runner.launch(launch);

    await expect(runner.launch(launch)).rejects.toThrow(/already/);
    await expect(runner.kill('grp:proj:job:0:unknown')).resolves.toBeUndefined();
    expect(await runner.readLogs('grp:proj:job:0:unknown', 'stdout')).toBeNull();

    await runner.kill(launch.taskId);
    await terminalOf(launch.taskId);
    await runner.close();
    await expect(newRunner().launch(launch)).rejects.toThrow(/already ran/);
  });

  it('prunes logs older than the given age', async () => {
    const runner = newRunner();
    const old = await run(runner, { cmd: 'echo old' });
    const recent = await run(runner, { cmd: 'echo recent' });
    await runner.close();
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    for (const suffix of ['stdout', 'stderr', 'json']) {
      const file = path.join(logDir, `${encodeURIComponent(old.taskId)}.${suffix}`);
      fs.utimesSync(file, eightDaysAgo, eightDaysAgo);
    }

    const reader = newRunner();
    expect(await reader.pruneLogs(7 * 24 * 3600 * 1000)).toBe(3);

    expect(await reader.readLogs(old.taskId, 'stdout')).toBeNull();
    expect((await reader.readLogs(recent.taskId, 'stdout'))?.data).toBe('recent\n');
  });
});
