/**
 * Exponential backoff between subscription attempts, with jitter so that several schedulers cut
 * off by the same master failover do not all come back in the same instant.
 */

export type BackoffJitter = 'full' | 'equal';

export interface ReconnectBackoffOptions {
  /** Ceiling of the first delay. Default 500 ms. */
  initialMs?: number;
  /** Largest ceiling. Default 15 s (the scheduler API docs suggest at most 15 s). */
  maxMs?: number;
  /**
   * `full`: uniform in [0, ceiling]. `equal` (default): ceiling/2 plus uniform in [0, ceiling/2],
   * which never retries at once.
   */
  jitter?: BackoffJitter;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

export class ReconnectBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly jitter: BackoffJitter;
  private readonly random: () => number;
  private failures = 0;

  constructor(options: ReconnectBackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 15_000;
    this.jitter = options.jitter ?? 'equal';
    this.random = options.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) {
      throw new RangeError('Backoff needs 0 < initialMs <= maxMs');
    }
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    // Cap the exponent too, so a long outage cannot overflow to Infinity.
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    const random = Math.min(Math.max(this.random(), 0), 1);
    const delay = this.jitter === 'full' ? ceiling * random : ceiling / 2 + (ceiling / 2) * random;
    return Math.round(delay);
  }

  /** Called after a successful subscription: the next outage starts from the first delay. */
  reset(): void {
    this.failures = 0;
  }
}
