import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { JobId } from '@rhythm/jobs';
import { newTaskId, type RunLaunch, type TaskStatusUpdate } from '@rhythm/scheduling';
import { IsIn, IsInt, IsOptional, Min } from 'class-validator';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import { CONFORMANCE_SPEC, describeRunnerConformance } from '../testing';
import { ActionFailure } from './action-failure';
import {
  InProcessActionRunner,
  type ActionContext,
  type InProcessActionRunnerOptions,
} from './in-process-action.runner';

const TERMINAL = new Set(['Finished', 'Failed', 'Killed', 'Lost']);
const JOB: JobId = { group: 'grp', project: 'proj', id: 'job' };

class ScriptOptionsDto {
  @IsIn(['succeed', 'fail', 'fail-plain', 'wait', 'ignore-kill'], { message: 'is not a script' })
  outcome!: 'succeed' | 'fail' | 'fail-plain' | 'wait' | 'ignore-kill';

  @IsOptional()
  @IsInt()
  @Min(0)
  steps?: number;
}

/** Does what its options say, logging each step. */
@RhythmRunner({ kind: 'script', options: ScriptOptionsDto })
@Injectable()
class ScriptRunner extends InProcessActionRunner<ScriptOptionsDto> {
  readonly seenOptions: ScriptOptionsDto[] = [];

  protected async perform(options: ScriptOptionsDto, context: ActionContext): Promise<string> {
    this.seenOptions.push(options);
    for (let step = 1; step <= (options.steps ?? 0); step++) {
      context.log(`step ${step}\nof ${options.steps}`);
      await context.sleep(5);
    }
    switch (options.outcome) {
      case 'succeed':
        return 'all done';
      case 'fail':
        throw new ActionFailure('the widget is broken', 'WIDGET_BROKEN');
      case 'fail-plain':
        throw new TypeError('cannot read the widget');
      case 'wait':
        await context.sleep(60_000);
        return 'waited';
      case 'ignore-kill':
        // Misbehaves on purpose: waits without looking at the signal.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return 'ignored the kill';
    }
  }
}

/** No @RhythmRunner: it cannot say its kind. */
class UndecoratedRunner extends InProcessActionRunner {
  protected async perform(): Promise<void> {}
}

describe(InProcessActionRunner.name, () => {
  let logDir: string;
  const runners: ScriptRunner[] = [];
  const updates = new Map<string, TaskStatusUpdate[]>();

  beforeEach(() => {
    logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-action-'));
  });

  afterEach(async () => {
    await Promise.all(runners.splice(0).map((runner) => runner.close()));
    fs.rmSync(logDir, { recursive: true, force: true });
  });

  function newRunner(options: Partial<InProcessActionRunnerOptions> = {}): ScriptRunner {
    const runner = new ScriptRunner({ logDir, killGraceMs: 1000, ...options });
    runner.onUpdate((update) => {
      updates.set(update.taskId, [...(updates.get(update.taskId) ?? []), update]);
    });
    runners.push(runner);
    return runner;
  }

  function launchOf(options: Record<string, unknown>, taskId = newTaskId(JOB)): RunLaunch {
    return {
      taskId,
      jobId: JOB,
      spec: CONFORMANCE_SPEC,
      scheduledAt: new Date(),
      attempt: 2,
      options,
    };
  }

  async function ended(taskId: string): Promise<TaskStatusUpdate> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const end = updates.get(taskId)?.find((update) => TERMINAL.has(update.state));
      if (end) return end;
      if (Date.now() > deadline) throw new Error(`no end for ${taskId}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async function persisted(taskId: string): Promise<void> {
    const file = path.join(logDir, `${encodeURIComponent(taskId)}.json`);
    const deadline = Date.now() + 5000;
    while (!fs.existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`no record of ${taskId}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('takes its kind from @RhythmRunner', () => {
    expect(newRunner().kind).toBe('script');
    expect(() => new UndecoratedRunner({ logDir }).kind).toThrow(
      'UndecoratedRunner must be decorated with @RhythmRunner({ kind })',
    );
  });

  it('reports Running before launch resolves, then Finished with the returned message', async () => {
    const runner = newRunner();
    const run = launchOf({ OUTCOME: 'succeed', steps: 2 });
    await runner.launch(run);
    expect(updates.get(run.taskId)?.map((update) => update.state)).toEqual(['Running']);

    const end = await ended(run.taskId);
    expect(updates.get(run.taskId)?.map((update) => update.state)).toEqual(['Running', 'Finished']);
    expect(end).toMatchObject({ message: 'all done', source: 'RUNNER', executorId: run.taskId });
    // Options arrive as an instance of the declared class, keys spelled as declared.
    expect(runner.seenOptions[0]).toBeInstanceOf(ScriptOptionsDto);
    expect(runner.seenOptions[0]).toEqual({ outcome: 'succeed', steps: 2 });
  });

  it('fails with the message and reason of an ActionFailure, or ACTION_FAILED', async () => {
    const runner = newRunner();
    const failure = launchOf({ outcome: 'fail' });
    const plain = launchOf({ outcome: 'fail-plain' });
    await runner.launch(failure);
    await runner.launch(plain);

    expect(await ended(failure.taskId)).toMatchObject({
      state: 'Failed',
      message: 'the widget is broken',
      reason: 'WIDGET_BROKEN',
    });
    expect(await ended(plain.taskId)).toMatchObject({
      state: 'Failed',
      message: 'cannot read the widget',
      reason: 'ACTION_FAILED',
    });
  });

  it('keeps a timestamped log, one line per event, served as stdout while and after the run', async () => {
    const runner = newRunner();
    const run = launchOf({ outcome: 'wait', steps: 1 });
    await runner.launch(run);
    await new Promise((resolve) => setTimeout(resolve, 30));

    const live = await runner.readLogs(run.taskId, 'stdout');
    expect(live?.data).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z script: run started \(attempt 2\)\n/,
    );
    expect(live?.data).toContain('Z step 1 of 1\n');
    await expect(runner.readLogs(run.taskId, 'stderr')).resolves.toEqual({
      offset: 0,
      data: '',
      size: 0,
    });

    await runner.kill(run.taskId);
    await ended(run.taskId);
    await persisted(run.taskId);
    const kept = await runner.readLogs(run.taskId, 'stdout');
    const lines = kept?.data.trimEnd().split('\n') ?? [];
    expect(lines.map((line) => line.slice(25))).toEqual([
      'script: run started (attempt 2)',
      'step 1 of 1',
      'kill requested',
      'Killed: killed while the action was running',
    ]);
    expect(kept?.size).toBe(Buffer.byteLength(kept?.data ?? ''));
    // Windows count bytes of the whole log.
    const tail = await runner.readLogs(run.taskId, 'stdout', { offset: 10, length: 5 });
    expect(tail).toEqual({ offset: 10, data: kept?.data.slice(10, 15), size: kept?.size });
    await expect(runner.readLogs(run.taskId, 'stderr')).resolves.toEqual({
      offset: 0,
      data: '',
      size: 0,
    });
  });

  it('reports Killed after the grace when the action ignores the kill, and only once', async () => {
    const runner = newRunner({ killGraceMs: 50 });
    const run = launchOf({ outcome: 'ignore-kill' });
    await runner.launch(run);
    await runner.kill(run.taskId);
    await runner.kill(run.taskId);

    const end = await ended(run.taskId);
    expect(end.message).toBe(
      'killed while the action was running; the action did not stop within 50 ms',
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(updates.get(run.taskId)?.map((update) => update.state)).toEqual(['Running', 'Killed']);
  });

  it('refuses invalid options at launch, naming the field, and accepts no update for them', async () => {
    const runner = newRunner();
    const run = launchOf({ outcome: 'explode', color: 'red' });
    await expect(runner.launch(run)).rejects.toThrow(
      'invalid options for the script runner: runner.color: is not an option of this runner; ' +
        'runner.outcome: is not a script',
    );
    expect(updates.get(run.taskId)).toBeUndefined();
  });

  it('refuses a task id it already launched, also after a restart', async () => {
    const runner = newRunner();
    const run = launchOf({ outcome: 'succeed' });
    await runner.launch(run);
    await expect(runner.launch(run)).rejects.toThrow(`task ${run.taskId} was already launched`);
    await ended(run.taskId);
    await persisted(run.taskId);
    await expect(newRunner().launch(run)).rejects.toThrow(`task ${run.taskId} already ran here`);
  });

  it('reconciles after a restart: ended runs from disk, unknown ones as Lost', async () => {
    const first = newRunner();
    const run = launchOf({ outcome: 'fail' });
    await first.launch(run);
    const end = await ended(run.taskId);
    await persisted(run.taskId);

    const restarted = newRunner();
    updates.clear();
    const unknown = newTaskId(JOB);
    await restarted.reconcile([run.taskId, unknown]);
    expect(updates.get(run.taskId)).toEqual([end]);
    expect(updates.get(unknown)).toEqual([
      expect.objectContaining({
        state: 'Lost',
        reason: 'REASON_RECONCILIATION',
        message: expect.stringContaining('the script runner has no record of this run'),
      }),
    ]);
    expect((await restarted.readLogs(run.taskId, 'stdout'))?.data).toContain(
      'Failed: the widget is broken',
    );
    await expect(restarted.readLogs(unknown, 'stdout')).resolves.toBeNull();
  });

  it('on close, stops every running action as Killed and refuses new launches', async () => {
    const runner = newRunner();
    const run = launchOf({ outcome: 'wait' });
    await runner.launch(run);
    await runner.close();

    expect(await ended(run.taskId)).toMatchObject({
      state: 'Killed',
      message: 'Rhythm shut down while the action was running',
    });
    expect(fs.existsSync(path.join(logDir, `${encodeURIComponent(run.taskId)}.log`))).toBe(true);
    await expect(runner.launch(launchOf({ outcome: 'succeed' }))).rejects.toThrow(
      'the script runner is closed',
    );
  });

  it('survives a listener that throws', async () => {
    const runner = newRunner();
    const warnings = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const seen: string[] = [];
    runner.onUpdate((update) => {
      seen.push(update.state);
      throw new Error('listener broke');
    });
    const run = launchOf({ outcome: 'succeed' });
    await runner.launch(run);
    await persisted(run.taskId);
    expect(seen).toEqual(['Running', 'Finished']);
    expect(warnings).toHaveBeenCalledWith(expect.stringContaining('listener broke'));
    warnings.mockRestore();
  });

  it('prunes kept logs older than the given age', async () => {
    const runner = newRunner();
    const run = launchOf({ outcome: 'succeed' });
    await runner.launch(run);
    await persisted(run.taskId);
    const old = new Date(Date.now() - 3600_000);
    for (const name of fs.readdirSync(logDir)) fs.utimesSync(path.join(logDir, name), old, old);

    await expect(runner.pruneLogs(60_000)).resolves.toBe(2);
    await expect(runner.readLogs(run.taskId, 'stdout')).resolves.toBeNull();
  });
});

describe('InProcessActionRunner: conformance of a minimal subclass', () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-action-conformance-'));
  describeRunnerConformance('script', async () => {
    const runner = new ScriptRunner({ logDir });
    return {
      runner,
      succeedingLaunch: () => ({ options: { outcome: 'succeed', steps: 1 } }),
      failingLaunch: () => ({ options: { outcome: 'fail' } }),
      slowLaunch: () => ({ options: { outcome: 'wait' } }),
      cleanup: async () => {
        await runner.close();
        fs.rmSync(logDir, { recursive: true, force: true });
      },
    };
  });
});
