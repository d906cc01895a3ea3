import type { TaskOutcome } from '@rhythm/jobs';
import type { SkipReason } from '../../domain/missed-runs';

export const SCHEDULER_METRICS = Symbol('SCHEDULER_METRICS');

/** What the scheduler reports for monitoring; no label per job (cardinality). */
export interface SchedulerMetrics {
  /** A run was launched `lagSeconds` after it was due. */
  launched(lagSeconds: number): void;
  /** A run ended (or was skipped, with outcome Skipped). */
  ended(outcome: TaskOutcome): void;
  /** Occurrences that will never start. */
  missed(reason: SkipReason, count: number): void;
}

export const NO_SCHEDULER_METRICS: SchedulerMetrics = {
  launched: () => undefined,
  ended: () => undefined,
  missed: () => undefined,
};
