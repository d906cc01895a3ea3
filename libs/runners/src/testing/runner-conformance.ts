import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { DynamicModule, Provider, Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { JobId, JobSpec } from '@rhythm/jobs';
import {
  RUNNER_REGISTRY,
  TERMINAL_TASK_STATES,
  newTaskId,
  type RunLaunch,
  type Runner,
  type RunnerRegistry,
  type TaskState,
  type TaskStatusUpdate,
} from '@rhythm/scheduling';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { RunnersModule } from '../runners.module';

/** A launch without its task id (the suite makes one); absent fields get neutral defaults. */
export type ConformanceLaunch = Partial<Omit<RunLaunch, 'taskId'>>;

/** The runner under test, and launches that make it succeed, fail, or run until killed. */
export interface RunnerConformanceSubject {
  readonly runner: Runner;
  /** A run that ends Finished. */
  succeedingLaunch(): ConformanceLaunch;
  /** A run that ends Failed. */
  failingLaunch(): ConformanceLaunch;
  /** A run that keeps going (for longer than `timeoutMs`) until it is killed. */
  slowLaunch(): ConformanceLaunch;
  /** Called once after the suite (stop servers, close the runner, delete files). */
  cleanup?(): Promise<void>;
}

export interface RunnerConformanceOptions {
  /** How long a run may take to reach the state a check waits for. Default 10 s. */
  readonly timeoutMs?: number;
  /** How long the suite watches for updates that should not come. Default 150 ms. */
  readonly quietMs?: number;
}

const JOB_ID: JobId = { group: 'conformance', project: 'runner', id: 'job' };

/** What the suite gives a launch that says nothing else: a command that does nothing. */
export const CONFORMANCE_SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '0 0 * * *' },
  env: {},
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine:3', forcePullImage: false } },
  cpus: 0.1,
  mem: 32,
  disk: 0,
  cmd: 'true',
  user: '',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

/** Where each state may come in a task's life: updates never go back. */
const STAGE: Readonly<Record<TaskState, number>> = {
  Staging: 0,
  Starting: 1,
  Running: 2,
  Finished: 3,
  Failed: 3,
  Killed: 3,
  Lost: 3,
};

/**
 * The behaviour every runner owes the scheduler (see the Runner port), as a jest suite a runner
 * runs against itself:
 *
 * ```ts
 * describeRunnerConformance('webhook', async () => ({ runner, succeedingLaunch: …, … }));
 * ```
 *
 * Checks: updates of a run come in order and end with exactly one terminal update; success ends
 * Finished, failure Failed with a message; killing a slow run ends it Killed; killing an unknown
 * task is ignored; reconciling reports a running task's state, an ended one's end, and an unknown
 * one as Lost; a finished run has logs, an unknown task none (null).
 */
export function describeRunnerConformance(
  name: string,
  setup: () => Promise<RunnerConformanceSubject>,
  options: RunnerConformanceOptions = {},
): void {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const quietMs = options.quietMs ?? 150;

  describe(`${name}: runner conformance`, () => {
    let subject: RunnerConformanceSubject | undefined;
    const updates = new Map<string, TaskStatusUpdate[]>();

    beforeAll(async () => {
      subject = await setup();
      subject.runner.onUpdate((update) => {
        const list = updates.get(update.taskId) ?? [];
        list.push(update);
        updates.set(update.taskId, list);
      });
    }, timeoutMs);

    afterAll(async () => {
      await subject?.cleanup?.();
    }, timeoutMs);

    const runner = (): Runner => {
      if (!subject) throw new Error('the conformance setup did not complete');
      return subject.runner;
    };
    const updatesOf = (taskId: string): TaskStatusUpdate[] => updates.get(taskId) ?? [];

    async function launch(recipe: ConformanceLaunch): Promise<string> {
      const taskId = newTaskId(recipe.jobId ?? JOB_ID);
      await runner().launch({
        jobId: JOB_ID,
        spec: CONFORMANCE_SPEC,
        scheduledAt: new Date(),
        attempt: 1,
        options: {},
        ...recipe,
        taskId,
      });
      return taskId;
    }

    function waitFor(what: string, done: () => boolean): Promise<void> {
      return pollUntil(what, done, timeoutMs);
    }

    /** Waits for the end, then a little longer: nothing may follow it. */
    async function ended(taskId: string): Promise<TaskStatusUpdate[]> {
      await waitFor(`the end of ${taskId}`, () =>
        updatesOf(taskId).some((update) => TERMINAL_TASK_STATES.has(update.state)),
      );
      await delay(quietMs);
      const seen = updatesOf(taskId);
      expectWellFormed(taskId, seen);
      return seen;
    }

    async function started(taskId: string): Promise<void> {
      await waitFor(`a first update of ${taskId}`, () => updatesOf(taskId).length > 0);
    }

    it(
      'reports a succeeding run in order, ending with exactly one Finished',
      async () => {
        const taskId = await launch(subject?.succeedingLaunch() ?? {});
        const seen = await ended(taskId);
        expect(seen.at(-1)?.state).toBe('Finished');
      },
      timeoutMs + 1000,
    );

    it(
      'reports a failing run as Failed with a message',
      async () => {
        const taskId = await launch(subject?.failingLaunch() ?? {});
        const seen = await ended(taskId);
        const last = seen.at(-1);
        expect(last?.state).toBe('Failed');
        expect(typeof last?.message).toBe('string');
        expect(last?.message).not.toBe('');
      },
      timeoutMs + 1000,
    );

    it(
      'ends a slow run it is asked to kill as Killed',
      async () => {
        const taskId = await launch(subject?.slowLaunch() ?? {});
        await started(taskId);
        expect(updatesOf(taskId).some((update) => TERMINAL_TASK_STATES.has(update.state))).toBe(
          false,
        );
        await runner().kill(taskId);
        const seen = await ended(taskId);
        expect(seen.at(-1)?.state).toBe('Killed');
      },
      timeoutMs + 1000,
    );

    it(
      'ignores a kill of a task it does not know',
      async () => {
        const taskId = newTaskId(JOB_ID);
        await expect(runner().kill(taskId)).resolves.toBeUndefined();
        await delay(quietMs);
        expect(updatesOf(taskId)).toEqual([]);
      },
      timeoutMs + 1000,
    );

    it(
      'reconciles a task it does not know as Lost, with a message',
      async () => {
        const taskId = newTaskId(JOB_ID);
        await runner().reconcile([taskId]);
        await waitFor(`the reconciliation of ${taskId}`, () => updatesOf(taskId).length > 0);
        await delay(quietMs);
        const seen = updatesOf(taskId);
        expect(seen.map((update) => update.state)).toEqual(['Lost']);
        expect(seen[0].message).toEqual(expect.any(String));
        expect(seen[0].message).not.toBe('');
      },
      timeoutMs + 1000,
    );

    it(
      'reconciles a running task with its current state, and an ended one with its end',
      async () => {
        const slow = await launch(subject?.slowLaunch() ?? {});
        const done = await launch(subject?.succeedingLaunch() ?? {});
        await started(slow);
        await ended(done);
        const slowBefore = updatesOf(slow).length;
        const doneBefore = updatesOf(done).length;

        await runner().reconcile([slow, done]);
        await waitFor('the reconciliation of both tasks', () => {
          return updatesOf(slow).length > slowBefore && updatesOf(done).length > doneBefore;
        });
        const slowReport = updatesOf(slow)[slowBefore];
        expect(TERMINAL_TASK_STATES.has(slowReport.state)).toBe(false);
        expect(slowReport.state).toBe(updatesOf(slow)[slowBefore - 1].state);
        expect(updatesOf(done)[doneBefore].state).toBe('Finished');

        await runner().kill(slow);
        await waitFor(`the end of ${slow}`, () => updatesOf(slow).at(-1)?.state === 'Killed');
      },
      timeoutMs + 1000,
    );

    it(
      'keeps logs of a finished run, and has none for a task it does not know',
      async () => {
        const taskId = await launch(subject?.succeedingLaunch() ?? {});
        await ended(taskId);
        const log = await runner().readLogs(taskId, 'stdout');
        expect(log).not.toBeNull();
        expect(typeof log?.offset).toBe('number');
        expect(typeof log?.data).toBe('string');
        expect(typeof log?.size).toBe('number');
        const unknown = newTaskId(JOB_ID);
        await expect(runner().readLogs(unknown, 'stdout')).resolves.toBeNull();
        await expect(runner().readLogs(unknown, 'stderr')).resolves.toBeNull();
      },
      timeoutMs + 1000,
    );
  });
}

/** One task's updates: its own id, dates, never going back, and one terminal update, last. */
function expectWellFormed(taskId: string, seen: readonly TaskStatusUpdate[]): void {
  for (const update of seen) {
    expect(update.taskId).toBe(taskId);
    expect(update.at).toBeInstanceOf(Date);
  }
  const stages = seen.map((update) => STAGE[update.state]);
  expect(stages).toEqual([...stages].sort((a, b) => a - b));
  const terminal = seen.filter((update) => TERMINAL_TASK_STATES.has(update.state));
  expect(terminal).toHaveLength(1);
  expect(seen.at(-1)).toBe(terminal[0]);
}

export interface RunnerTestModule {
  readonly module: TestingModule;
  readonly registry: RunnerRegistry;
  /** Closes the module (the runners' shutdown hooks run) and deletes its temporary directory. */
  close(): Promise<void>;
}

/**
 * Boots a Nest testing module as the app would: `RunnersModule.forRoot(…)` (local runner logs in a
 * temporary directory) plus the runner — a @RhythmRunner class, or a module (class or dynamic)
 * that provides runners — and `providers` its constructor needs. Asks the registry for every
 * runner, as the app's boot does, so that a duplicate kind rejects here with the registry's
 * message. Then check `registry.get(kind)` and `registry.validate(kind, options)`.
 */
export async function createRunnerTestModule(
  runnerOrModule: Type<unknown> | DynamicModule,
  extra: {
    readonly providers?: Provider[];
    readonly imports?: Array<Type<unknown> | DynamicModule>;
  } = {},
): Promise<RunnerTestModule> {
  const logDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rhythm-runner-test-'));
  const isRunner =
    typeof runnerOrModule === 'function' && Reflect.hasMetadata(RhythmRunner.KEY, runnerOrModule);
  const module = await Test.createTestingModule({
    imports: [
      RunnersModule.forRoot({ local: { logDir, logMaxAgeMs: 60_000 } }),
      ...(isRunner ? [] : [runnerOrModule]),
      ...(extra.imports ?? []),
    ],
    providers: [...(isRunner ? [runnerOrModule] : []), ...(extra.providers ?? [])],
  }).compile();
  const close = async (): Promise<void> => {
    await module.close();
    await fsp.rm(logDir, { recursive: true, force: true });
  };
  try {
    await module.init();
    const registry = module.get<RunnerRegistry>(RUNNER_REGISTRY);
    registry.all();
    return { module, registry, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function pollUntil(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
