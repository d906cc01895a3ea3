import type { JobId } from '../../domain/job-id';
import { jobKey } from '../../domain/job-id';

/**
 * The Redis key layout (documented in docs/architecture.md). Job fields are addressed by the job's
 * path form `group/project/id`, which sorts by group, then project, then id.
 */
export class RedisJobKeys {
  constructor(private readonly prefix: string) {}

  /** Hash: job path → spec JSON. */
  get specs(): string {
    return `${this.prefix}jobs:spec`;
  }

  /** Hash: job path → runtime JSON. */
  get runtimes(): string {
    return `${this.prefix}jobs:runtime`;
  }

  /** Sorted set (all scores 0): job paths, for ordered and prefix listings with ZRANGEBYLEX. */
  get index(): string {
    return `${this.prefix}jobs:index`;
  }

  /** Sorted set: job path scored by when the scheduler must next look at it (ms; see `dueAt`). */
  get due(): string {
    return `${this.prefix}jobs:due`;
  }

  /** Set: paths of jobs with a run in flight, for reconciliation without a full scan. */
  get inFlight(): string {
    return `${this.prefix}jobs:inflight`;
  }

  /**
   * Sorted set: `<runner> <task id>` of runs in flight of deleted jobs, scored by when the job was
   * deleted (ms), until the leader has sent their kill.
   */
  get orphanedRuns(): string {
    return `${this.prefix}runs:orphaned`;
  }

  /** Counter that makes task members unique and keeps equal end times in append order. */
  get taskSequence(): string {
    return `${this.prefix}tasks:seq`;
  }

  /** String: the leader lock, holding the current leader's random lock value (PX = the lock TTL). */
  get leaderLock(): string {
    return `${this.prefix}leader:lock`;
  }

  /**
   * Counter: the fencing epoch, incremented (only while the leader lock is held) each time a term
   * begins. Store writes made for a term also read it, and refuse to apply once it has moved past
   * the term's epoch.
   */
  get leaderEpoch(): string {
    return `${this.prefix}leader:epoch`;
  }

  /** Hash: name → value of what the leader keeps across terms (e.g. the Mesos framework ID). */
  get schedulerState(): string {
    return `${this.prefix}state`;
  }

  /** Sorted set per job: `<16-digit seq>:<task JSON>` scored by end time (ms). */
  tasks(jobId: JobId): string {
    return this.tasksOf(jobKey(jobId));
  }

  tasksOf(path: string): string {
    return `${this.prefix}tasks:${path}`;
  }
}
