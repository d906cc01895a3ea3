export { waitFor } from '../../support/wait-for';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import Redis from 'ioredis';
import { loadConfig } from '../../../apps/api/src/config/load-config';
import type { RhythmConfig } from '../../../apps/api/src/config/rhythm-config';
import { RedisServer } from '../../support/redis-server';

/** The repository root: the nearest folder above this file whose package.json is Rhythm's. */
export const REPO_ROOT = findRepoRoot(__dirname);

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string };
      if (name === 'rhythm') return dir;
    }
    if (path.dirname(dir) === dir) throw new Error(`no Rhythm package.json above ${start}`);
  }
}

export const VERSION = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Polls `check` until it returns a truthy value; throws after `timeoutMs`. */
/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/**
 * Everything the bench started, stopped in reverse order: at the end, on error, on a signal and
 * on the global time limit. Each cleanup runs once.
 */
export class Cleanups {
  private readonly entries: Array<{ what: string; run: () => Promise<void> }> = [];

  /** Registers a cleanup; the returned function runs it now (and unregisters it). */
  add(what: string, run: () => Promise<void>): () => Promise<void> {
    const entry = { what, run };
    this.entries.push(entry);
    return async () => {
      const index = this.entries.indexOf(entry);
      if (index < 0) return;
      this.entries.splice(index, 1);
      await entry.run();
    };
  }

  async runAll(): Promise<void> {
    while (this.entries.length > 0) {
      const entry = this.entries.pop() as { what: string; run: () => Promise<void> };
      try {
        await entry.run();
      } catch (error) {
        log(`cleanup '${entry.what}' failed: ${describe(error)}`);
      }
    }
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

// ---------------------------------------------------------------------------------------------
// CPU of other processes

export const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds of this process (all threads: JS, GC, libuv). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  readonly version: string;
  /** A connection of the bench's own (INFO, CONFIG, counters). */
  readonly client: Redis;
  stop(): Promise<void>;
}

/**
 * A real redis-server (test/support/redis-server: appendonly yes, appendfsync always) switched to
 * the fsync policy asked for; the docker-compose stack of production uses `everysec`.
 */
export async function startRedis(cleanups: Cleanups, fsync: string): Promise<BenchRedis> {
  const server = await RedisServer.start();
  const client = new Redis(server.url, { maxRetriesPerRequest: 1, lazyConnect: false });
  const stop = cleanups.add('redis-server', async () => {
    client.disconnect();
    await server.stop();
  });
  try {
    await client.config('SET', 'appendfsync', fsync);
    const info = await client.info('server');
    const field = (name: string): string => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1] ?? '';
    return {
      url: server.url,
      pid: Number(field('process_id').trim()),
      version: field('redis_version').trim(),
      client,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Calls per Redis command so far (INFO commandstats), e.g. `{ evalsha: 20012, hget: 40000 }`. */
export async function commandCounts(client: Redis): Promise<Record<string, number>> {
  const info = await client.info('commandstats');
  const counts: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    counts[match[1]] = Number(match[2]);
  }
  return counts;
}

export function countDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const diff = calls - (before[name] ?? 0);
    if (diff > 0) delta[name] = diff;
  }
  return delta;
}

// ---------------------------------------------------------------------------------------------
// Configuration

/** A production configuration (loadConfig defaults) on the given Redis and key prefix. */
export function redisConfig(redisUrl: string, keyPrefix: string, logDir: string): RhythmConfig {
  return loadConfig(
    {
      RHYTHM_STORAGE: 'redis',
      RHYTHM_REDIS_URL: redisUrl,
      RHYTHM_REDIS_PREFIX: keyPrefix,
      RHYTHM_LOG_DIR: logDir,
      RHYTHM_LOG_LEVEL: 'error',
      RHYTHM_ADDR: '127.0.0.1:0',
    },
    [],
    VERSION,
  );
}

// ---------------------------------------------------------------------------------------------
// The machine's CPU, and what other processes use of it

/** CPU seconds all cores spent busy so far (/proc/stat: everything but idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / CLOCK_TICKS;
}

export interface CpuShares {
  readonly wallMs: number;
  /** % of one core: this process (the in-process app and the bench). */
  readonly node: number;
  readonly redis: number;
  /** Everything else on the machine (other people's builds and tests: a noisy neighbour). */
  readonly other: number;
  /** All cores together (200 = both cores of a 2-core machine). */
  readonly machine: number;
}

/** Starts measuring; the returned function gives the shares since the start. */
export function cpuWindow(redisPid: number | null): () => CpuShares {
  const t0 = Date.now();
  const node0 = ownCpuSeconds();
  const redis0 = redisPid === null ? 0 : processCpuSeconds(redisPid);
  const machine0 = machineBusySeconds();
  return () => {
    const wallMs = Math.max(1, Date.now() - t0);
    const pct = (seconds: number): number => (100 * seconds * 1000) / wallMs;
    const node = pct(ownCpuSeconds() - node0);
    const redis = redisPid === null ? 0 : pct(processCpuSeconds(redisPid) - redis0);
    const machine = pct(machineBusySeconds() - machine0);
    return { wallMs, node, redis, machine, other: Math.max(0, machine - node - redis) };
  };
}

/**
 * Waits (at most `maxSeconds`) until other processes use less than `maxOtherPercent` of one core
 * for 3 s in a row, so that a neighbour's build does not distort the figures. Goes on regardless
 * afterwards; the windows report the others' share anyway. Returns their last 1-s share.
 */
export async function waitForQuiet(
  label: string,
  maxSeconds: number,
  redisPid: number | null,
  maxOtherPercent = 20,
): Promise<number> {
  const until = Date.now() + maxSeconds * 1000;
  let quiet = 0;
  let last = 0;
  let announced = false;
  while (quiet < 3) {
    const window = cpuWindow(redisPid);
    await sleep(1000);
    last = window().other;
    quiet = last < maxOtherPercent ? quiet + 1 : 0;
    if (quiet < 3 && !announced && last >= maxOtherPercent) {
      announced = true;
      log(
        `${label} other processes use ${last.toFixed(0)} % of a core; waiting up to ${maxSeconds} s`,
      );
    }
    if (Date.now() >= until) {
      log(`${label} still busy (others ${last.toFixed(0)} %); going on`);
      break;
    }
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// Which code was measured (others change the tree while the bench runs; no git here)

const HOT_PATH_FILES = [
  'libs/scheduling/src/application/scheduler.service.ts',
  'libs/scheduling/src/scheduling.settings.ts',
  'libs/scheduling/src/domain/run-decisions.ts',
  'libs/scheduling/src/domain/missed-runs.ts',
  'libs/scheduling/src/domain/task-transitions.ts',
  'libs/scheduling/src/infrastructure/redis/redis-leader-election.ts',
  'libs/jobs/src/domain/cron-expression.ts',
  'libs/jobs/src/infrastructure/job-codec.ts',
  'libs/jobs/src/infrastructure/redis/redis-job.repository.ts',
  'libs/jobs/src/infrastructure/redis/redis-connection.ts',
  'apps/api/src/app.module.ts',
];

/** SHA-1 (first 12 hex digits) and modification time of each file of the scheduler's hot path. */
export function codeFingerprint(): Record<string, string> {
  const result: Record<string, string> = {};
  for (const file of HOT_PATH_FILES) {
    const full = path.join(REPO_ROOT, file);
    if (!existsSync(full)) {
      result[file] = 'missing';
      continue;
    }
    const sha = createHash('sha1').update(readFileSync(full)).digest('hex').slice(0, 12);
    result[file] = `${sha} (modified ${statSync(full).mtime.toISOString()})`;
  }
  return result;
}
