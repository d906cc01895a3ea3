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

  /** Sorted set: job path scored by run-now request time (ms). */
  get runQueue(): string {
    return `${this.prefix}queue`;
  }

  /** Counter that makes task members unique and keeps equal end times in append order. */
  get taskSequence(): string {
    return `${this.prefix}tasks:seq`;
  }

  /** Sorted set per job: `<16-digit seq>:<task JSON>` scored by end time (ms). */
  tasks(jobId: JobId): string {
    return this.tasksOf(jobKey(jobId));
  }

  tasksOf(path: string): string {
    return `${this.prefix}tasks:${path}`;
  }
}
