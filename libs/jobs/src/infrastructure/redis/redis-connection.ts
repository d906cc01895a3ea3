import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { JobsError } from '../../domain/jobs.errors';

/**
 * Connection settings tuned for an API in front of Redis: while Redis is down, commands fail fast
 * (after one reconnect attempt) instead of queueing forever, so requests answer 503 rather than hang.
 */
export function createRedisConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
    lazyConnect: false,
  });
}

/** Runs a store operation, reporting any failure to reach Redis as STORE_UNAVAILABLE. */
export async function inRedis<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof JobsError) throw error;
    throw JobsError.storeUnavailable(error);
  }
}

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it. */
export class RedisScript {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(
    client: Redis,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
