import type { Job } from '../../domain/job';
import { parseJobKey } from '../../domain/job-id';
import { decodeJob } from '../job-codec';

interface Decoded {
  readonly spec: string;
  readonly runtime: string;
  readonly job: Job;
}

/**
 * Jobs decoded from their stored JSON, reused while the stored strings stay the same: comparing two
 * strings costs a fraction of parsing them, and most jobs of a listing have not changed since the
 * last one. Entries of jobs that are gone are dropped when a full listing is read; past
 * `maxEntries` the cache starts over.
 */
export class DecodedJobCache {
  private entries = new Map<string, Decoded>();

  constructor(private readonly maxEntries: number) {}

  decode(path: string, spec: string, runtime: string): Job {
    const known = this.entries.get(path);
    if (known !== undefined && known.spec === spec && known.runtime === runtime) return known.job;
    const job = decodeJob(parseJobKey(path), spec, runtime);
    if (known === undefined && this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(path, { spec, runtime, job });
    return job;
  }

  forget(path: string): void {
    this.entries.delete(path);
  }

  /** Keeps only the given paths (those a listing of every job just returned). */
  retainOnly(paths: readonly string[]): void {
    const kept = new Map<string, Decoded>();
    for (const path of paths) {
      const entry = this.entries.get(path);
      if (entry !== undefined) kept.set(path, entry);
    }
    this.entries = kept;
  }
}
