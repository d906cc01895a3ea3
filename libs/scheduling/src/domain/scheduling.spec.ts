import type { Job, JobSpec, JobRuntime } from '@rhythm/jobs';
import { nextFireAfter, newJob } from '@rhythm/jobs';
import type { TaskStatusUpdate } from './task-status';
import { decideDue, KILLED_ON_REQUEST, type DueDecision } from './run-decisions';
import type { SchedulingContext } from './scheduling-context';
import { applyTaskUpdate, applyTaskUpdates } from './task-transitions';

const SPEC: JobSpec = {
  schedule: { type: 'Cron', cron: '*/5 * * * *' },
  env: {},
  secrets: {},
  container: { type: 'Docker', docker: { image: 'alpine', forcePullImage: false } },
  cpus: 1,
  mem: 64,
  disk: 0,
  cmd: 'true',
  user: '',
  shell: true,
  arguments: [],
  labels: {},
  maxRetries: 0,
};

const t = (iso: string) => new Date(iso);

function job(
  spec: Partial<JobSpec> = {},
  createdAt = t('2026-03-01T00:00:00Z'),
  runtime: Partial<JobRuntime> = {},
): Job {
  const created = newJob(
    { group: 'g', project: 'p', id: 'j' },
    { ...SPEC, ...spec },
    createdAt,
    'UTC',
  );
  return { ...created, runtime: { ...created.runtime, ...runtime } };
}

let ids = 0;
function ctx(now: string): SchedulingContext {
  return {
    now: t(now),
    defaultTimezone: 'UTC',
    runner: 'local',
    newTaskId: () => `g:p:j:task-${++ids}`,
  };
}

function decide(subject: Job, now: string): DueDecision {
  const decision = decideDue(subject, ctx(now));
  if (!decision) throw new Error(`expected a decision at ${now}`);
  return decision;
}

function update(
  taskId: string,
  state: TaskStatusUpdate['state'],
  at: string,
  extra: Partial<TaskStatusUpdate> = {},
): TaskStatusUpdate {
  return { taskId, state, at: t(at), ...extra };
}

/** Runs a launched job to its end with the given terminal state. */
function finish(
  subject: Job,
  state: TaskStatusUpdate['state'],
  at: string,
  extra: Partial<TaskStatusUpdate> = {},
) {
  const taskId = subject.runtime.run?.taskId ?? '';
  const done = applyTaskUpdate(subject, update(taskId, state, at, extra), t(at));
  if (!done) throw new Error('expected a transition');
  return done;
}

describe('cron and time zones', () => {
  const fires = (spec: Partial<JobSpec>, from: string, count: number) => {
    const subject = job(spec);
    const out: string[] = [];
    let at: Date | null = t(from);
    for (let i = 0; i < count && at; i++) {
      at = nextFireAfter(subject, at, 'UTC');
      if (at) out.push(at.toISOString());
    }
    return out;
  };

  it('runs a 02:30 Warsaw job once at 03:00 on the spring-forward day', () => {
    expect(
      fires(
        { schedule: { type: 'Cron', cron: '30 2 * * *', timezone: 'Europe/Warsaw' } },
        '2027-03-26T12:00:00Z',
        3,
      ),
    ).toEqual([
      '2027-03-27T01:30:00.000Z', // 02:30 CET
      '2027-03-28T01:00:00.000Z', // 03:00 CEST: 02:30 does not exist that day
      '2027-03-29T00:30:00.000Z', // 02:30 CEST
    ]);
  });

  it('runs a 02:30 Warsaw job once on the fall-back day, in the first pass', () => {
    expect(
      fires(
        { schedule: { type: 'Cron', cron: '30 2 * * *', timezone: 'Europe/Warsaw' } },
        '2027-10-30T12:00:00Z',
        2,
      ),
    ).toEqual([
      '2027-10-31T00:30:00.000Z', // 02:30 CEST
      '2027-11-01T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('runs a 02:30 New York job at 03:00 on spring-forward, and a 01:30 one once on fall-back', () => {
    const at = (cron: string) => ({
      schedule: { type: 'Cron' as const, cron, timezone: 'America/New_York' },
    });
    expect(fires(at('30 2 * * *'), '2027-03-13T12:00:00Z', 2)).toEqual([
      '2027-03-14T07:00:00.000Z', // 03:00 EDT
      '2027-03-15T06:30:00.000Z', // 02:30 EDT
    ]);
    // 01:00-01:59 happens twice on 2027-11-07; the job runs in the first pass only.
    expect(fires(at('30 1 * * *'), '2027-11-06T12:00:00Z', 2)).toEqual([
      '2027-11-07T05:30:00.000Z', // 01:30 EDT
      '2027-11-08T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('fires a Feb 29 job only in leap years', () => {
    expect(
      fires({ schedule: { type: 'Cron', cron: '0 12 29 2 *' } }, '2026-01-01T00:00:00Z', 2),
    ).toEqual(['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
  });

  it('makes a new job wait for its next cron time', () => {
    const created = job({}, t('2026-03-01T00:02:00Z'));
    expect(created.runtime.nextFireAt).toEqual(t('2026-03-01T00:05:00Z'));
    expect(decideDue(created, ctx('2026-03-01T00:04:59Z'))).toBeNull();
  });
});

describe('state machine', () => {
  it('launches a due occurrence, then follows the runner to Idle with a success record', () => {
    const launched = decide(job(), '2026-03-01T00:05:00.200Z');
    expect(launched.launch?.run).toMatchObject({
      scheduledAt: t('2026-03-01T00:05:00Z'),
      trigger: 'cron',
      attempt: 1,
    });
    const taskId = launched.launch?.run.taskId ?? '';
    expect(launched.job.runtime).toMatchObject({
      state: 'Staging',
      currentTaskId: taskId,
      lastStart: t('2026-03-01T00:05:00.200Z'),
      nextFireAt: t('2026-03-01T00:10:00Z'),
      retries: 0,
    });
    let current = launched.job;
    for (const state of ['Starting', 'Running'] as const) {
      const step = applyTaskUpdate(
        current,
        update(taskId, state, '2026-03-01T00:05:01Z', { agentId: 'a1' }),
        t('2026-03-01T00:05:01Z'),
      );
      expect(step?.job.runtime).toMatchObject({ state, currentAgentId: 'a1' });
      current = step?.job ?? current;
    }
    const done = finish(current, 'Finished', '2026-03-01T00:05:03Z', { exitCode: 0 });
    expect(done.job.runtime).toMatchObject({
      state: 'Idle',
      currentTaskId: '',
      currentAgentId: '',
      run: null,
    });
    expect(done.history).toEqual([
      expect.objectContaining({
        taskId,
        start: t('2026-03-01T00:05:00.200Z'),
        end: t('2026-03-01T00:05:03Z'),
        message: '',
        reason: '',
        source: '',
        state: 'Finished',
        exitCode: 0,
        trigger: 'cron',
        attempt: 1,
        runner: 'local',
        agentId: 'a1',
      }),
    ]);
  });

  it('ignores updates for a task that is not the current one, and backwards moves', () => {
    const launched = decide(job(), '2026-03-01T00:05:00Z').job;
    expect(
      applyTaskUpdate(
        launched,
        update('other', 'Finished', '2026-03-01T00:05:01Z'),
        t('2026-03-01T00:05:01Z'),
      ),
    ).toBeNull();
    const taskId = launched.runtime.currentTaskId;
    const running = applyTaskUpdate(
      launched,
      update(taskId, 'Running', '2026-03-01T00:05:01Z'),
      t('2026-03-01T00:05:01Z'),
    )?.job;
    expect(
      running &&
        applyTaskUpdate(
          running,
          update(taskId, 'Starting', '2026-03-01T00:05:02Z'),
          t('2026-03-01T00:05:02Z'),
        ),
    ).toBeNull();
    const done = running && finish(running, 'Finished', '2026-03-01T00:05:03Z').job;
    expect(
      done &&
        applyTaskUpdate(
          done,
          update(taskId, 'Failed', '2026-03-01T00:05:04Z'),
          t('2026-03-01T00:05:04Z'),
        ),
    ).toBeNull();
  });

  it.each(['Failed', 'Killed', 'Lost'] as const)(
    'records %s as a failure with a non-empty source',
    (state) => {
      const launched = decide(job(), '2026-03-01T00:05:00Z').job;
      const done = finish(launched, state, '2026-03-01T00:05:02Z', {
        exitCode: state === 'Failed' ? 3 : null,
      });
      expect(done.job.runtime.state).toBe('Failed');
      expect(done.history[0]).toMatchObject({
        state,
        source: 'RUNNER',
        reason: `TASK_${state.toUpperCase()}`,
      });
      expect(done.history[0].message).not.toBe('');
    },
  );

  it('never starts a second run while one is in flight; a due occurrence waits for the end', () => {
    const launched = decide(job(), '2026-03-01T00:05:00Z').job;
    expect(decideDue(launched, ctx('2026-03-01T00:10:00Z'))).toBeNull();
    const done = finish(launched, 'Finished', '2026-03-01T00:10:20Z').job;
    const next = decide(done, '2026-03-01T00:10:20Z');
    expect(next.launch?.run).toMatchObject({
      scheduledAt: t('2026-03-01T00:10:00Z'),
      trigger: 'cron',
    });
  });
});

describe('several updates of a job in one change', () => {
  it('applies them in order, as one by one: Running and Finished together end the run', () => {
    const launched = decide(job({ maxRetries: 1 }), '2026-03-01T00:05:00Z').job;
    const taskId = launched.runtime.currentTaskId;
    const updates = [
      update(taskId, 'Running', '2026-03-01T00:05:01Z', { agentId: 'a1' }),
      update(taskId, 'Failed', '2026-03-01T00:05:02Z', { exitCode: 2 }),
    ];
    const now = t('2026-03-01T00:05:02Z');
    const together = applyTaskUpdates(launched, updates, now);
    const running = applyTaskUpdate(launched, updates[0], now);
    const oneByOne = running && applyTaskUpdate(running.job, updates[1], now);
    expect(together).toEqual({
      job: oneByOne?.job,
      history: oneByOne?.history,
      outcomes: ['Failed'],
    });
    expect(together?.history[0]).toMatchObject({ agentId: 'a1', exitCode: 2, state: 'Failed' });
    expect(together?.job.runtime.retry).toMatchObject({ attempt: 2 });
  });

  it('skips the updates that change nothing, and returns null when none does', () => {
    const launched = decide(job(), '2026-03-01T00:05:00Z').job;
    const taskId = launched.runtime.currentTaskId;
    const at = '2026-03-01T00:05:01Z';
    expect(
      applyTaskUpdates(
        launched,
        [update('other', 'Finished', at), update(taskId, 'Staging', at)],
        t(at),
      ),
    ).toBeNull();
    const done = applyTaskUpdates(
      launched,
      [update(taskId, 'Finished', at), update(taskId, 'Lost', at), update(taskId, 'Running', at)],
      t(at),
    );
    expect(done?.outcomes).toEqual(['Finished']);
    expect(done?.history.map((record) => record.state)).toEqual(['Finished']);
    expect(done?.job.runtime).toMatchObject({ state: 'Idle', run: null });
  });

  it('ignores a late duplicate of an earlier task among them: only the current task moves the job', () => {
    const first = decide(job(), '2026-03-01T00:05:00Z');
    const firstTask = first.job.runtime.currentTaskId;
    const done = finish(first.job, 'Finished', '2026-03-01T00:05:01Z').job;
    const second = decide(done, '2026-03-01T00:10:00Z').job;
    const secondTask = second.runtime.currentTaskId;
    const at = '2026-03-01T00:10:01Z';
    const result = applyTaskUpdates(
      second,
      [update(firstTask, 'Finished', at), update(secondTask, 'Finished', at)],
      t(at),
    );
    expect(result?.history.map((record) => record.taskId)).toEqual([secondTask]);
    expect(result?.outcomes).toEqual(['Finished']);
  });
});

describe('retries', () => {
  it('retries a failed occurrence with exponential backoff up to maxretries, then waits for the next occurrence', () => {
    let subject = job({
      maxRetries: 2,
      retryBackoff: { backoffSeconds: 10, maxBackoffSeconds: 15 },
    });
    subject = decide(subject, '2026-03-01T00:05:00Z').job;
    subject = finish(subject, 'Failed', '2026-03-01T00:05:01Z').job;
    expect(subject.runtime.retry).toMatchObject({ dueAt: t('2026-03-01T00:05:11Z'), attempt: 2 });
    expect(decideDue(subject, ctx('2026-03-01T00:05:10Z'))?.launch ?? null).toBeNull();
    const second = decide(subject, '2026-03-01T00:05:11Z');
    expect(second.launch?.run).toMatchObject({
      trigger: 'retry',
      attempt: 2,
      scheduledAt: t('2026-03-01T00:05:00Z'),
    });
    expect(second.job.runtime.retries).toBe(1);
    subject = finish(second.job, 'Failed', '2026-03-01T00:05:12Z').job;
    expect(subject.runtime.retry).toMatchObject({ dueAt: t('2026-03-01T00:05:27Z'), attempt: 3 }); // capped at 15 s
    subject = decide(subject, '2026-03-01T00:05:27Z').job;
    expect(subject.runtime.retries).toBe(2);
    subject = finish(subject, 'Failed', '2026-03-01T00:05:28Z').job;
    expect(subject.runtime.retry).toBeNull();
    expect(subject.runtime.state).toBe('Failed');
    const next = decide(subject, '2026-03-01T00:10:00Z');
    expect(next.launch?.run).toMatchObject({ trigger: 'cron', attempt: 1 });
    expect(next.job.runtime.retries).toBe(0);
  });

  it('drops a pending retry when the next occurrence comes, recording it as superseded', () => {
    let subject = job({
      maxRetries: 1,
      retryBackoff: { backoffSeconds: 600, maxBackoffSeconds: 600 },
    });
    subject = finish(
      decide(subject, '2026-03-01T00:05:00Z').job,
      'Failed',
      '2026-03-01T00:05:01Z',
    ).job;
    const next = decide(subject, '2026-03-01T00:10:00Z');
    expect(next.launch?.run).toMatchObject({
      trigger: 'cron',
      scheduledAt: t('2026-03-01T00:10:00Z'),
    });
    expect(next.job.runtime.retry).toBeNull();
    expect(next.history).toEqual([
      expect.objectContaining({ state: 'Skipped', reason: 'SKIPPED_SUPERSEDED' }),
    ]);
  });
});

describe('pause after failures', () => {
  /** Launches what is due at `due` and ends the run in `state` at `end`. */
  const occurrence = (subject: Job, due: string, state: TaskStatusUpdate['state'], end: string) =>
    finish(decide(subject, due).job, state, end).job;

  it('pauses the job once that many occurrences in a row failed, counting each after its retries', () => {
    let subject = job({ maxRetries: 1, pauseAfterFailures: 2 });
    subject = occurrence(subject, '2026-03-01T00:05:00Z', 'Failed', '2026-03-01T00:05:01Z');
    // A failed attempt with a retry left is not yet a failed occurrence.
    expect(subject.runtime.consecutiveFailures).toBe(0);
    const retry = subject.runtime.retry?.dueAt.toISOString() ?? '';
    subject = occurrence(subject, retry, 'Lost', '2026-03-01T00:05:20Z');
    expect(subject.runtime).toMatchObject({ consecutiveFailures: 1, paused: null });
    subject = occurrence(subject, '2026-03-01T00:10:00Z', 'Failed', '2026-03-01T00:10:01Z');
    const retry2 = subject.runtime.retry?.dueAt.toISOString() ?? '';
    subject = occurrence(subject, retry2, 'Failed', '2026-03-01T00:10:30Z');
    expect(subject.runtime).toMatchObject({
      consecutiveFailures: 2,
      paused: { since: t('2026-03-01T00:10:30Z'), until: null },
    });
    expect(decideDue(subject, ctx('2026-03-01T00:15:00Z'))?.launch ?? null).toBeNull();
  });

  it('starts counting again after a success, and never counts a kill on request', () => {
    let subject = job({ pauseAfterFailures: 2 });
    subject = occurrence(subject, '2026-03-01T00:05:00Z', 'Failed', '2026-03-01T00:05:01Z');
    expect(subject.runtime.consecutiveFailures).toBe(1);
    subject = occurrence(subject, '2026-03-01T00:10:00Z', 'Finished', '2026-03-01T00:10:01Z');
    expect(subject.runtime.consecutiveFailures).toBe(0);
    subject = occurrence(subject, '2026-03-01T00:15:00Z', 'Failed', '2026-03-01T00:15:01Z');
    const launched = decide(subject, '2026-03-01T00:20:00Z').job;
    const run = launched.runtime.run;
    if (!run) throw new Error('expected a run');
    const killing = {
      ...launched,
      runtime: { ...launched.runtime, run: { ...run, killReason: KILLED_ON_REQUEST } },
    };
    subject = finish(killing, 'Killed', '2026-03-01T00:20:05Z').job;
    expect(subject.runtime).toMatchObject({ consecutiveFailures: 1, paused: null });
  });

  it('never pauses a job without the setting', () => {
    let subject = job();
    for (const minute of ['05', '10', '15']) {
      subject = occurrence(
        subject,
        `2026-03-01T00:${minute}:00Z`,
        'Failed',
        `2026-03-01T00:${minute}:01Z`,
      );
    }
    expect(subject.runtime).toMatchObject({ consecutiveFailures: 3, paused: null });
  });
});

describe('missed runs', () => {
  // Down from 00:04 to 00:31: occurrences 00:05 … 00:30 (6 of them) were missed.
  const down = (policy: Partial<JobSpec>) => job(policy, t('2026-03-01T00:04:00Z'));
  const NOW = '2026-03-01T00:31:00Z';

  it('once (default): runs the latest occurrence once and records the others as collapsed', () => {
    const decision = decide(down({}), NOW);
    expect(decision.launch?.run).toMatchObject({
      scheduledAt: t('2026-03-01T00:30:00Z'),
      trigger: 'cron',
    });
    expect(
      decision.history.map((r) => [r.scheduledAt?.toISOString().slice(11, 16), r.reason]),
    ).toEqual([
      ['00:05', 'SKIPPED_COLLAPSED'],
      ['00:10', 'SKIPPED_COLLAPSED'],
      ['00:15', 'SKIPPED_COLLAPSED'],
      ['00:20', 'SKIPPED_COLLAPSED'],
      ['00:25', 'SKIPPED_COLLAPSED'],
    ]);
    expect(decision.job.runtime.nextFireAt).toEqual(t('2026-03-01T00:35:00Z'));
  });

  it('skip: runs only an occurrence at most a minute late; older ones are skipped', () => {
    const decision = decide(down({ missedRuns: { policy: 'skip' } }), NOW);
    expect(decision.launch?.run.scheduledAt).toEqual(t('2026-03-01T00:30:00Z'));
    expect(decision.history.every((r) => r.reason === 'SKIPPED_DEADLINE_EXCEEDED')).toBe(true);
    expect(decision.history).toHaveLength(5);
    const late = decide(down({ missedRuns: { policy: 'skip' } }), '2026-03-01T00:31:01Z');
    expect(late.launch).toBeNull();
    expect(late.history).toHaveLength(6);
  });

  it('all: runs every missed occurrence one after another, up to maxCatchUp', () => {
    let subject = down({ missedRuns: { policy: 'all', maxCatchUp: 4 } });
    const first = decide(subject, NOW);
    expect(first.history.map((r) => r.reason)).toEqual([
      'SKIPPED_CATCH_UP_LIMIT',
      'SKIPPED_CATCH_UP_LIMIT',
    ]);
    expect(first.launch?.run).toMatchObject({
      scheduledAt: t('2026-03-01T00:15:00Z'),
      trigger: 'catch-up',
    });
    subject = first.job;
    const started: string[] = [first.launch?.run.scheduledAt.toISOString().slice(11, 16) ?? ''];
    for (let i = 0; i < 3; i++) {
      subject = finish(subject, 'Finished', NOW).job;
      const next = decide(subject, NOW);
      started.push(next.launch?.run.scheduledAt.toISOString().slice(11, 16) ?? '');
      subject = next.job;
    }
    expect(started).toEqual(['00:15', '00:20', '00:25', '00:30']);
    subject = finish(subject, 'Finished', NOW).job;
    expect(decideDue(subject, ctx(NOW))).toBeNull();
  });

  it('a starting deadline skips occurrences later than it, under every policy', () => {
    const decision = decide(
      down({ missedRuns: { policy: 'all', startingDeadlineSeconds: 600 } }),
      NOW,
    );
    // 00:05 … 00:20 are more than ten minutes late at 00:31
    expect(decision.history.filter((r) => r.reason === 'SKIPPED_DEADLINE_EXCEEDED')).toHaveLength(
      4,
    );
    expect(decision.launch?.run.scheduledAt).toEqual(t('2026-03-01T00:25:00Z'));
  });

  it('sums up a long outage in one record instead of thousands', () => {
    const subject = job(
      { schedule: { type: 'Cron', cron: '* * * * *' } },
      t('2026-03-01T00:00:00Z'),
    );
    const decision = decide(subject, '2026-03-08T00:00:00Z'); // a week: 10,080 occurrences
    expect(decision.launch?.run.scheduledAt).toEqual(t('2026-03-08T00:00:00Z'));
    expect(decision.history).toHaveLength(11);
    expect(decision.history[0]).toMatchObject({ reason: 'SKIPPED_MANY' });
    expect(decision.history[0].message).toMatch(/^10069 more occurrences/);
    expect(decision.skipped.length).toBeGreaterThanOrEqual(9_999);
  });
});

describe('run now, pause and timeout', () => {
  it('starts a queued run-now at once, before a later cron occurrence', () => {
    const subject = job();
    const queued = {
      ...subject,
      runtime: {
        ...subject.runtime,
        queue: [{ scheduledAt: t('2026-03-01T00:01:00Z'), trigger: 'manual' as const }],
      },
    };
    const decision = decide(queued, '2026-03-01T00:05:00Z');
    expect(decision.launch?.run).toMatchObject({
      trigger: 'manual',
      scheduledAt: t('2026-03-01T00:01:00Z'),
    });
    expect(decision.job.runtime.queue).toEqual([
      { scheduledAt: t('2026-03-01T00:05:00Z'), trigger: 'cron' },
    ]);
  });

  it('runs nothing while paused and resumes from the pause end without catching up', () => {
    const subject = job({}, t('2026-03-01T00:00:00Z'), {
      paused: { since: t('2026-03-01T00:01:00Z'), until: t('2026-03-01T00:20:30Z') },
    });
    expect(decideDue(subject, ctx('2026-03-01T00:20:00Z'))).toBeNull();
    const resumed = decide(subject, '2026-03-01T00:20:30Z');
    expect(resumed.launch).toBeNull();
    expect(resumed.job.runtime).toMatchObject({
      paused: null,
      nextFireAt: t('2026-03-01T00:25:00Z'),
    });
  });

  it('kills a run past its timeout and records it as failed', () => {
    const launched = decide(job({ timeoutSeconds: 30 }), '2026-03-01T00:05:00Z').job;
    expect(launched.runtime.run?.deadline).toEqual(t('2026-03-01T00:05:30Z'));
    expect(decideDue(launched, ctx('2026-03-01T00:05:29Z'))).toBeNull();
    const timeout = decide(launched, '2026-03-01T00:05:30Z');
    expect(timeout.kill).toEqual({
      taskId: launched.runtime.currentTaskId,
      reason: 'timed out after 30 s',
    });
    expect(decideDue(timeout.job, ctx('2026-03-01T00:05:40Z'))).toBeNull(); // asked once
    const done = finish(timeout.job, 'Killed', '2026-03-01T00:05:31Z');
    expect(done.history[0]).toMatchObject({
      state: 'Failed',
      reason: 'TIMEOUT',
      message: 'timed out after 30 s',
      source: 'SCHEDULER',
    });
    expect(done.outcome).toBe('Failed');
  });
});
