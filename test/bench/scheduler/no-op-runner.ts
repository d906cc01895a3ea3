import type { TaskOutcome } from '@rhythm/jobs';
import type {
  RunLaunch,
  Runner,
  SchedulerMetrics,
  SkipReason,
  TaskLog,
  TaskStatusUpdate,
} from '@rhythm/scheduling';
import { PrometheusSchedulerMetrics } from '../../../apps/api/src/metrics/prometheus-scheduler-metrics';

/** One launch as the runner saw it. */
export interface LaunchRecord {
  readonly jobKey: string;
  readonly scheduledAtMs: number;
  /** When the scheduler called `launch()` (ms since epoch). */
  readonly launchedAtMs: number;
}

/**
 * A runner that starts nothing: each launch is recorded and reported Finished on the next turn of
 * the event loop (setImmediate), through the scheduler's update listener, as a real runner would
 * report a command that ended at once.
 */
export class NoOpRunner implements Runner {
  readonly kind = 'noop';
  private listener: ((update: TaskStatusUpdate) => void) | null = null;
  /** Every task this runner was given, for reconciliation (all of them are finished). */
  private readonly known = new Set<string>();
  onLaunch: (record: LaunchRecord) => void = () => undefined;

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  async launch(run: RunLaunch): Promise<void> {
    this.onLaunch({
      jobKey: `${run.jobId.group}/${run.jobId.project}/${run.jobId.id}`,
      scheduledAtMs: run.scheduledAt.getTime(),
      launchedAtMs: Date.now(),
    });
    this.known.add(run.taskId);
    setImmediate(() => this.report(run.taskId, 'Finished'));
  }

  async kill(taskId: string): Promise<void> {
    if (this.known.has(taskId)) setImmediate(() => this.report(taskId, 'Killed'));
  }

  async reconcile(taskIds: readonly string[]): Promise<void> {
    for (const taskId of taskIds) {
      this.report(taskId, this.known.has(taskId) ? 'Finished' : 'Lost');
    }
  }

  async readLogs(): Promise<TaskLog | null> {
    return null;
  }

  /** Called by the runners module's lifecycle (it expects the local runner). */
  async pruneLogs(): Promise<number> {
    return 0;
  }

  /** Called by the runners module's lifecycle (it expects the local runner). */
  async close(): Promise<void> {
    this.known.clear();
  }

  /** Forgets the tasks of earlier rounds. */
  forget(): void {
    this.known.clear();
  }

  private report(taskId: string, state: 'Finished' | 'Killed' | 'Lost'): void {
    this.listener?.({
      taskId,
      state,
      at: new Date(),
      exitCode: state === 'Finished' ? 0 : null,
      message: 'no-op runner',
      reason: state === 'Finished' ? 'EXIT_CODE' : 'NO_OP',
      source: 'RUNNER',
    });
  }
}

/**
 * The app's Prometheus metrics, plus a count of committed run ends: `ended()` is called after the
 * scheduler committed a terminal update to the store.
 */
export class RecordingMetrics implements SchedulerMetrics {
  private readonly real = new PrometheusSchedulerMetrics();
  readonly ends = new Map<TaskOutcome, number>();
  onEnded: (outcome: TaskOutcome) => void = () => undefined;

  launched(lagSeconds: number): void {
    this.real.launched(lagSeconds);
  }

  ended(outcome: TaskOutcome): void {
    this.real.ended(outcome);
    this.ends.set(outcome, (this.ends.get(outcome) ?? 0) + 1);
    this.onEnded(outcome);
  }

  missed(reason: SkipReason, count: number): void {
    this.real.missed(reason, count);
  }

  reset(): void {
    this.ends.clear();
  }
}
