import { RedisJobKeys } from '@rhythm/jobs';
import type Redis from 'ioredis';
import Redlock, {
  ExecutionError,
  type Lock,
  ResourceLockedError,
  type RedlockAbortSignal,
  type Settings,
} from 'redlock';
import type { LeaderElection, LeadershipTerm } from '../../application/ports/leader-election.port';

/**
 * Starts a term only while the lock still holds this campaign's value, so an epoch is never taken
 * under a lock that has already passed to another instance. Returns the new epoch, or nil.
 */
const BUMP_EPOCH_IF_HOLDER = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('INCR', KEYS[2]) else return false end`;

export interface LeaderElectionLogger {
  info(msg: object): void;
  warn(msg: object): void;
}

export interface RedisLeaderElectionOptions {
  /** The store's key prefix; the lock and epoch keys live under it (see RedisJobKeys). */
  keyPrefix: string;
  /** Lock TTL: how long a dead leader blocks a takeover. Default 3000 ms. */
  ttlMs?: number;
  /** Pause between campaign attempts while following. Default 500 ms. */
  retryMs?: number;
  logger?: LeaderElectionLogger;
}

interface ActiveTerm {
  readonly view: LeadershipTerm;
  readonly controller: AbortController;
  /** The random value redlock stored in the lock key when it was acquired. */
  readonly lockValue: string;
  /** Until when the lock is known to be ours: redlock's expiration of its latest acquire/extend. */
  validUntil: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * redlock's `using()` keeps its lock object to itself. This subclass sees every lock that
 * `using()` acquires or extends (it calls these public methods), which gives the election the
 * lock's value (for the fenced epoch bump) and its expiration (for the validity of the term).
 * One campaign runs at a time, so `current` is the lock of the running `using()`.
 */
class ObservedRedlock extends Redlock {
  /** The latest lock acquired or extended; an extension replaces the lock (same value). */
  current: Lock | null = null;
  onExtended: (lock: Lock) => void = () => undefined;

  override async acquire(
    resources: string[],
    duration: number,
    settings?: Partial<Settings>,
  ): Promise<Lock> {
    const lock = await super.acquire(resources, duration, settings);
    this.current = lock;
    return lock;
  }

  override async extend(
    existing: Lock,
    duration: number,
    settings?: Partial<Settings>,
  ): Promise<Lock> {
    let lock: Lock;
    try {
      lock = await super.extend(existing, duration, settings);
    } catch (error) {
      // `using()` retries a failed extension at once for as long as the lock is unexpired. When
      // another holder has the key, that cannot succeed: expire the lock so it gives up and aborts
      // now. Other failures (Redis unreachable) are retried, but paced.
      if (await heldByAnother(error)) {
        existing.expiration = 0;
        throw new ExecutionError('The leader lock is held by another instance.', []);
      }
      await delay(Math.min(50, Math.max(0, existing.expiration - Date.now())));
      throw error;
    }
    this.current = lock;
    this.onExtended(lock);
    return lock;
  }
}

/**
 * Leader election over one Redis: the leader holds a redlock lock (TTL `ttlMs`, extended
 * automatically while it leads) and each term takes the next value of a fencing epoch counter,
 * incremented only while the lock is still held.
 *
 * A term ends (its signal aborts) as soon as this instance can no longer be sure it holds the
 * lock: when redlock fails to extend it, or when the lock's validity passes before an extension
 * succeeded (Redis down or slow), or on stop(). It then campaigns again.
 */
export class RedisLeaderElection implements LeaderElection {
  private readonly keys: RedisJobKeys;
  private readonly ttlMs: number;
  private readonly retryMs: number;
  private readonly logger: LeaderElectionLogger | undefined;
  private readonly redlock: ObservedRedlock;
  private readonly listeners: Array<(term: LeadershipTerm) => void> = [];
  private term: ActiveTerm | null = null;
  private campaign: Promise<void> | null = null;
  /** Aborted by stop(): ends the campaign loop and its pauses. */
  private stopping = new AbortController();

  constructor(
    private readonly redis: Redis,
    options: RedisLeaderElectionOptions,
  ) {
    this.keys = new RedisJobKeys(options.keyPrefix);
    this.ttlMs = options.ttlMs ?? 3_000;
    this.retryMs = options.retryMs ?? 500;
    this.logger = options.logger;
    if (!Number.isInteger(this.ttlMs) || this.ttlMs < 200) {
      throw new Error(`ttlMs must be an integer of at least 200 ms, got ${this.ttlMs}`);
    }
    if (!(this.retryMs >= 0)) throw new Error(`retryMs must not be negative, got ${this.retryMs}`);
    this.redlock = new ObservedRedlock([redis], {
      // One attempt per campaign round (the loop paces the retries), and one release attempt, so
      // an abort does not wait out release retries (node-redlock#309).
      retryCount: 0,
      // Extend when half the TTL is left: a slow round trip still has half a TTL to succeed.
      automaticExtensionThreshold: Math.floor(this.ttlMs / 2),
    });
    this.redlock.on('error', (error: unknown) => {
      // Fired on every failed attempt; a lock held by another instance is how followers live.
      if (error instanceof ResourceLockedError) return;
      this.logger?.warn({ msg: 'leader lock operation failed', error: describe(error) });
    });
    this.redlock.onExtended = (lock) => this.extended(lock);
  }

  isLeader(): boolean {
    return this.liveTerm() !== null;
  }

  currentTerm(): LeadershipTerm | null {
    return this.liveTerm()?.view ?? null;
  }

  onTerm(listener: (term: LeadershipTerm) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    if (this.campaign) return;
    this.stopping = new AbortController();
    this.campaign = this.campaignLoop().catch((error: unknown) => {
      this.logger?.warn({ msg: 'leader election loop failed', error: describe(error) });
    });
  }

  /**
   * Ends the term (its signal aborts at once), releases the lock so a follower can take over on
   * its next attempt, and resolves when the campaign loop has ended: at once when Redis answers,
   * and at the latest `ttlMs` after the call when it does not (the lock expires by then anyway).
   */
  async stop(): Promise<void> {
    const campaign = this.campaign;
    if (!campaign) return;
    this.stopping.abort();
    if (this.term) this.endTerm(this.term, 'stopped');
    await campaign;
    this.campaign = null;
  }

  private async campaignLoop(): Promise<void> {
    const stopping = this.stopping.signal;
    while (!stopping.aborted) {
      const attempt = this.redlock.using([this.keys.leaderLock], this.ttlMs, (lockSignal) =>
        this.lead(lockSignal, stopping),
      );
      try {
        await settledOrStopped(attempt, stopping, this.ttlMs);
      } catch (error) {
        // A refused or failed acquire surfaces as ExecutionError; its cause went to the error event.
        if (!(error instanceof ExecutionError)) {
          this.logger?.warn({ msg: 'leader election attempt failed', error: describe(error) });
        }
      }
      await pause(this.retryMs, stopping);
    }
  }

  /** The routine run while the lock is held; returning from it releases the lock. */
  private async lead(lockSignal: RedlockAbortSignal, stopping: AbortSignal): Promise<void> {
    const acquired = this.redlock.current;
    if (!acquired || stopping.aborted) return;
    const epoch = await this.redis.eval(
      BUMP_EPOCH_IF_HOLDER,
      2,
      this.keys.leaderLock,
      this.keys.leaderEpoch,
      acquired.value,
    );
    if (typeof epoch !== 'number') {
      this.logger?.warn({ msg: 'leader lock was lost before the term began' });
      return;
    }
    // The lock may have been extended meanwhile (a slow bump): its latest expiration counts.
    const lock = this.redlock.current;
    if (stopping.aborted || lockSignal.aborted) return;
    if (lock?.value !== acquired.value || Date.now() >= lock.expiration) return;

    const controller = new AbortController();
    const term: ActiveTerm = {
      view: { epoch, signal: controller.signal },
      controller,
      lockValue: lock.value,
      validUntil: lock.expiration,
      timer: undefined,
    };
    const ended = new Promise<void>((resolve) =>
      controller.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    this.term = term;
    lockSignal.addEventListener(
      'abort',
      () => this.endTerm(term, `lock extension failed: ${describe(lockSignal.error)}`),
      { once: true },
    );
    this.watchValidity(term);
    this.logger?.info({ msg: 'leadership term began', epoch });
    for (const listener of this.listeners) {
      if (controller.signal.aborted) break;
      try {
        listener(term.view);
      } catch (error) {
        this.logger?.warn({
          msg: 'leadership term listener failed',
          epoch,
          error: describe(error),
        });
      }
    }
    await ended;
  }

  /** The term, if it is still live; ends it first when its lock validity has passed. */
  private liveTerm(): ActiveTerm | null {
    const term = this.term;
    if (term && Date.now() >= term.validUntil) {
      this.endTerm(term, 'lock validity passed without an extension');
    }
    return this.term;
  }

  private extended(lock: Lock): void {
    const term = this.term;
    if (!term || lock.value !== term.lockValue || Date.now() >= term.validUntil) return;
    term.validUntil = lock.expiration;
    this.watchValidity(term);
  }

  /** Ends the term when its validity passes, unless an extension pushes it further first. */
  private watchValidity(term: ActiveTerm): void {
    clearTimeout(term.timer);
    term.timer = setTimeout(
      () => {
        term.timer = undefined;
        if (Date.now() >= term.validUntil) {
          this.endTerm(term, 'lock validity passed without an extension');
        } else {
          this.watchValidity(term);
        }
      },
      Math.max(0, term.validUntil - Date.now()),
    );
    term.timer.unref();
  }

  private endTerm(term: ActiveTerm, reason: string): void {
    if (this.term !== term) return;
    this.term = null;
    clearTimeout(term.timer);
    term.timer = undefined;
    const log = { msg: 'leadership term ended', epoch: term.view.epoch, reason };
    if (reason === 'stopped') this.logger?.info(log);
    else this.logger?.warn(log);
    term.controller.abort(new Error(`Leadership term ${term.view.epoch} ended: ${reason}`));
  }
}

/**
 * Waits for a campaign attempt. Once stopping, waits at most `boundMs` more: with Redis down, the
 * release in redlock's `using` can hang on a command for longer; it then finishes in the background.
 */
function settledOrStopped(
  attempt: Promise<void>,
  stopping: AbortSignal,
  boundMs: number,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const onStop = () => {
      timer = setTimeout(() => {
        cleanUp();
        resolve();
      }, boundMs);
      timer.unref();
    };
    const cleanUp = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', onStop);
    };
    attempt.then(
      () => {
        cleanUp();
        resolve();
      },
      (error: unknown) => {
        cleanUp();
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
    if (stopping.aborted) onStop();
    else stopping.addEventListener('abort', onStop, { once: true });
  });
}

/** Sleeps `ms`, or less when stopping. */
function pause(ms: number, stopping: AbortSignal): Promise<void> {
  if (stopping.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, ms);
    timer.unref();
    stopping.addEventListener('abort', finish, { once: true });
  });
}

/** Whether a failed redlock operation was refused because another value holds the key. */
async function heldByAnother(error: unknown): Promise<boolean> {
  if (!(error instanceof ExecutionError)) return false;
  const attempts = await Promise.all(error.attempts);
  return attempts.some((stats) =>
    [...stats.votesAgainst.values()].some((vote) => vote instanceof ResourceLockedError),
  );
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
