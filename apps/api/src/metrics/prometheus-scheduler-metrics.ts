import type { TaskOutcome } from '@rhythm/jobs';
import type { SchedulerMetrics, SkipReason } from '@rhythm/scheduling';
import { Counter, Histogram, register } from 'prom-client';

/** The scheduler's series in Prometheus; labels are bounded sets (no label per job). */
export class PrometheusSchedulerMetrics implements SchedulerMetrics {
  private readonly lag: Histogram;
  private readonly runs: Counter;
  private readonly missedRuns: Counter;

  constructor() {
    // Tests build several apps in one process; the newest app owns the process-wide series.
    for (const name of [
      'rhythm_job_trigger_lag_seconds',
      'rhythm_job_runs_total',
      'rhythm_job_missed_runs_total',
    ]) {
      register.removeSingleMetric(name);
    }
    this.lag = new Histogram({
      name: 'rhythm_job_trigger_lag_seconds',
      help: 'Time from when a run was due to when it was launched.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    });
    this.runs = new Counter({
      name: 'rhythm_job_runs_total',
      help: 'Runs that ended, by outcome.',
      labelNames: ['status'],
    });
    this.missedRuns = new Counter({
      name: 'rhythm_job_missed_runs_total',
      help: 'Occurrences that never started, by reason.',
      labelNames: ['reason'],
    });
  }

  launched(lagSeconds: number): void {
    this.lag.observe(lagSeconds);
  }

  ended(outcome: TaskOutcome): void {
    this.runs.inc({ status: outcome.toLowerCase() });
  }

  missed(reason: SkipReason, count: number): void {
    this.missedRuns.inc({ reason }, count);
  }
}
