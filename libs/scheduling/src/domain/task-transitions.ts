import type { ActiveRun, Job, JobState, PendingRetry, TaskOutcome, TaskRecord } from '@rhythm/jobs';
import { DEFAULT_RETRY_BACKOFF } from '@rhythm/jobs';
import { KILLED_ON_REQUEST } from './run-decisions';
import type { TaskStatusUpdate } from './task-status';

/** The job's state for each non-terminal task state; a task only ever moves forward. */
const PROGRESS: Readonly<Record<'Staging' | 'Starting' | 'Running', JobState>> = {
  Staging: 'Staging',
  Starting: 'Starting',
  Running: 'Running',
};
const RANK: Readonly<Record<JobState, number>> = {
  Idle: 0,
  Failed: 0,
  Staging: 1,
  Starting: 2,
  Running: 3,
};

export interface TaskTransition {
  readonly job: Job;
  readonly history: readonly TaskRecord[];
  /** Set when the update ended the run. */
  readonly outcome: TaskOutcome | null;
}

/**
 * Applies a runner's status update to the job. Only the job's current task moves it: an update
 * for any other task (an old run, a duplicate delivery) changes nothing and returns null.
 * A run that ends unsuccessfully is retried with exponential backoff while retries are left.
 */
export function applyTaskUpdate(
  job: Job,
  update: TaskStatusUpdate,
  now: Date,
): TaskTransition | null {
  const run = job.runtime.run;
  if (!run || run.taskId !== update.taskId) return null;
  if (update.state === 'Staging' || update.state === 'Starting' || update.state === 'Running') {
    const state = PROGRESS[update.state];
    const agentId = update.agentId ?? job.runtime.currentAgentId;
    if (RANK[state] < RANK[job.runtime.state]) return null;
    if (state === job.runtime.state && agentId === job.runtime.currentAgentId) return null;
    return {
      job: { ...job, runtime: { ...job.runtime, state, currentAgentId: agentId } },
      history: [],
      outcome: null,
    };
  }
  const outcome = outcomeOf(update, run);
  const record = taskRecord(update, run, outcome, job.runtime.currentAgentId, now);
  const finished = outcome === 'Finished';
  // A user who kills a run wants it stopped, not started again.
  const killedOnRequest = update.state === 'Killed' && run.killReason === KILLED_ON_REQUEST;
  const retry = finished || killedOnRequest ? null : nextRetry(job, run, now);
  // An occurrence has failed for good once its last attempt failed; a kill on request is no failure.
  const failedForGood = !finished && !killedOnRequest && retry === null;
  const consecutiveFailures = finished
    ? 0
    : job.runtime.consecutiveFailures + (failedForGood ? 1 : 0);
  const pauses =
    failedForGood &&
    job.pauseAfterFailures !== undefined &&
    consecutiveFailures >= job.pauseAfterFailures &&
    !job.runtime.paused;
  return {
    job: {
      ...job,
      runtime: {
        ...job.runtime,
        state: finished ? 'Idle' : 'Failed',
        currentTaskId: '',
        currentAgentId: '',
        run: null,
        retry,
        consecutiveFailures,
        ...(pauses && { paused: { since: now, until: null } }),
      },
    },
    history: [record],
    outcome,
  };
}

/** Several updates of one job's tasks applied as one change. */
export interface TaskTransitions {
  readonly job: Job;
  readonly history: readonly TaskRecord[];
  /** Every run the updates ended, in order. */
  readonly outcomes: readonly TaskOutcome[];
}

/**
 * Applies a job's updates one after the other, in the order the runner sent them, as one change,
 * so that e.g. Running and Finished arriving together cost one write. The result is the same as
 * applying each on its own; null when none of them changes anything.
 */
export function applyTaskUpdates(
  job: Job,
  updates: readonly TaskStatusUpdate[],
  now: Date,
): TaskTransitions | null {
  let current = job;
  const history: TaskRecord[] = [];
  const outcomes: TaskOutcome[] = [];
  let changed = false;
  for (const update of updates) {
    const transition = applyTaskUpdate(current, update, now);
    if (!transition) continue;
    changed = true;
    current = transition.job;
    history.push(...transition.history);
    if (transition.outcome) outcomes.push(transition.outcome);
  }
  return changed ? { job: current, history, outcomes } : null;
}

/** A run killed for its timeout counts as failed, as does any other kill by the scheduler. */
function outcomeOf(update: TaskStatusUpdate, run: ActiveRun): TaskOutcome {
  if (update.state === 'Killed' && run.killReason?.startsWith('timed out')) return 'Failed';
  return update.state as TaskOutcome;
}

function nextRetry(job: Job, run: ActiveRun, now: Date): PendingRetry | null {
  if (run.attempt - 1 >= job.maxRetries) return null;
  const backoff = job.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
  const delaySeconds = Math.min(
    backoff.backoffSeconds * 2 ** (run.attempt - 1),
    backoff.maxBackoffSeconds,
  );
  return {
    scheduledAt: run.scheduledAt,
    trigger: run.trigger,
    dueAt: new Date(now.getTime() + delaySeconds * 1000),
    attempt: run.attempt + 1,
  };
}

function taskRecord(
  update: TaskStatusUpdate,
  run: ActiveRun,
  outcome: TaskOutcome,
  agentId: string,
  now: Date,
): TaskRecord {
  const success = outcome === 'Finished';
  // Killed because the scheduler asked: for its timeout (a failure) or on a user's request.
  const killedByScheduler = update.state === 'Killed' && run.killReason !== null;
  const timedOut = outcome === 'Failed' && killedByScheduler;
  return {
    start: run.launchedAt,
    end: update.at ?? now,
    taskId: run.taskId,
    executorId: update.executorId ?? run.taskId,
    agentId: update.agentId ?? agentId,
    frameworkId: update.frameworkId ?? '',
    executorUrl: update.executorUrl ?? '',
    // Message, Reason and Source are empty exactly for successful runs, as clients expect.
    message: success
      ? ''
      : killedByScheduler
        ? (run.killReason ?? '')
        : update.message || `Task ${outcome.toLowerCase()}`,
    reason: success
      ? ''
      : timedOut
        ? 'TIMEOUT'
        : killedByScheduler
          ? 'KILLED_ON_REQUEST'
          : update.reason || `TASK_${outcome.toUpperCase()}`,
    source: success ? '' : killedByScheduler ? 'SCHEDULER' : update.source || 'RUNNER',
    scheduledAt: run.scheduledAt,
    trigger: run.trigger,
    attempt: run.attempt,
    state: outcome,
    exitCode: update.exitCode ?? null,
    runner: run.runner,
  };
}
