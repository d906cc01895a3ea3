import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort } from '../../support/free-port';
import { log, REPO_ROOT, sleep, waitFor, type BenchRedis, type Cleanups } from './common';

const LEADER_TTL_MS = 3_000;
const POLL_MS = 500;
const JOB = { group: 'failover', project: 'bench', id: 'stamp' };

export interface FailoverRound {
  readonly round: number;
  /** SIGKILL of the leader → the first timestamp the command wrote (the next launch). */
  readonly killToLaunchMs: number;
  /** SIGKILL → the survivor's health first said Leader (polled every 25 ms). */
  readonly killToLeaderMs: number | null;
  /** How long the run-now request took to answer, and its status. */
  readonly runNowMs: number;
  readonly runNowStatus: number;
  /** New lines in the stamp file for this round (1 = launched once). */
  readonly launches: number;
}

export interface FailoverResult {
  readonly leaderTtlMs: number;
  readonly pollIntervalMs: number;
  readonly rounds: readonly FailoverRound[];
  readonly maxKillToLaunchMs: number;
}

interface Instance {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  stderr: string;
}

/**
 * 3. Failover: two real Rhythm processes (ts-node, local runner) on the Redis store; each round
 * SIGKILLs the leader, asks the survivor at once to run a job that appends `date +%s%3N` to a
 * file, and measures the kill → that timestamp. A replacement process keeps two running.
 */
export async function measureFailover(options: {
  redis: BenchRedis;
  cleanups: Cleanups;
  rounds: number;
}): Promise<FailoverResult> {
  const { redis, cleanups } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'rhythm-bench-failover-'));
  const removeDir = cleanups.add('failover dir', async () =>
    rmSync(dir, { recursive: true, force: true }),
  );
  const stamps = path.join(dir, 'stamps.log');
  const instances: Instance[] = [];
  const stopAll = cleanups.add('rhythm processes', async () => {
    await Promise.all(instances.map(stopInstance));
  });
  let serial = 0;
  const startOne = async (): Promise<Instance> => {
    const instance = await startInstance(`rhythm-${++serial}`, redis.url, dir);
    instances.push(instance);
    return instance;
  };
  try {
    log('[failover] starting two Rhythm processes (ts-node)');
    let live = [await startOne(), await startOne()];
    await Promise.all(live.map((instance) => waitHealthy(instance, 90_000)));
    const created = await api(live[0], 'POST', '/api/v1/jobs', {
      ...JOB,
      cpus: 0.1,
      mem: 16,
      schedule: { cron: '0 0 1 1 *' },
      container: { docker: { image: 'alpine' } },
      cmd: `date +%s%3N >> '${stamps}'`,
    });
    if (created.status !== 204) throw new Error(`creating the job answered ${created.status}`);

    const rounds: FailoverRound[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const leader = await waitFor(
        async () => {
          const states = await Promise.all(live.map(isLeader));
          const leaders = live.filter((_, i) => states[i] === true);
          return leaders.length === 1 && states.every((s) => s !== null) ? leaders[0] : null;
        },
        'exactly one leader of two healthy processes',
        30_000,
      );
      const survivor = live.find((instance) => instance !== leader) as Instance;
      await waitForIdleJob(survivor);
      const before = stampLines(stamps).length;

      const killedAt = Date.now();
      leader.child.kill('SIGKILL');
      const runNow = api(
        survivor,
        'POST',
        `/api/v1/jobs/${JOB.group}/${JOB.project}/${JOB.id}/run`,
      );
      let leaderAt: number | null = null;
      const watchLeader = (async () => {
        while (leaderAt === null && Date.now() - killedAt < 20_000) {
          if ((await isLeader(survivor)) === true) leaderAt = Date.now();
          else await sleep(25);
        }
      })();
      const answer = await runNow;
      const runNowMs = Date.now() - killedAt;
      const stamp = await waitFor(
        () => stampLines(stamps)[before],
        'the command to write its timestamp',
        30_000,
        5,
      );
      await watchLeader;
      await waitForIdleJob(survivor);
      const launches = stampLines(stamps).length - before;
      const result: FailoverRound = {
        round,
        killToLaunchMs: Number(stamp) - killedAt,
        killToLeaderMs: leaderAt === null ? null : leaderAt - killedAt,
        runNowMs,
        runNowStatus: answer.status,
        launches,
      };
      rounds.push(result);
      log(
        `[failover] round ${round}: kill → launch ${result.killToLaunchMs} ms, kill → leader ` +
          `${result.killToLeaderMs ?? '-'} ms, run-now ${answer.status} in ${runNowMs} ms`,
      );

      await leader.exited;
      live = [survivor];
      if (round < options.rounds) {
        const replacement = await startOne();
        await waitHealthy(replacement, 90_000);
        live.push(replacement);
      }
    }
    return {
      leaderTtlMs: LEADER_TTL_MS,
      pollIntervalMs: POLL_MS,
      rounds,
      maxKillToLaunchMs: Math.max(...rounds.map((r) => r.killToLaunchMs)),
    };
  } catch (error) {
    for (const instance of instances) {
      if (instance.stderr.trim() !== '') {
        log(`[failover] ${instance.name} stderr (tail):\n${instance.stderr.slice(-2000)}`);
      }
    }
    throw error;
  } finally {
    await stopAll();
    await removeDir();
  }
}

async function startInstance(name: string, redisUrl: string, dir: string): Promise<Instance> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/api/src/main.ts',
    ],
    {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        // Only the settings below: no RHYTHM_* variable of the bench's own environment.
        ...Object.fromEntries(
          Object.entries(process.env).filter(([key]) => !key.startsWith('RHYTHM_')),
        ),
        RHYTHM_ADDR: `127.0.0.1:${port}`,
        RHYTHM_STORAGE: 'redis',
        RHYTHM_REDIS_URL: redisUrl,
        RHYTHM_REDIS_PREFIX: 'failover:',
        RHYTHM_LEADER_TTL_MS: String(LEADER_TTL_MS),
        RHYTHM_SCHEDULER_POLL_MS: String(POLL_MS),
        RHYTHM_LOG_DIR: path.join(dir, `logs-${name}`),
        RHYTHM_LOG_LEVEL: 'error',
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const instance: Instance = { name, url: `http://127.0.0.1:${port}`, child, exited, stderr: '' };
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    instance.stderr = (instance.stderr + chunk).slice(-8192);
  });
  return instance;
}

async function stopInstance(instance: Instance): Promise<void> {
  const { child } = instance;
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await instance.exited;
}

async function waitHealthy(instance: Instance, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
        throw new Error(`${instance.name} exited: ${instance.stderr.slice(-2000)}`);
      }
      return (await isLeader(instance)) !== null;
    },
    `${instance.name} to answer /api/v1/health`,
    timeoutMs,
    100,
  );
}

/** The instance's Leader flag, or null when it does not answer. */
async function isLeader(instance: Instance): Promise<boolean | null> {
  try {
    const response = await fetch(`${instance.url}/api/v1/health`, {
      signal: AbortSignal.timeout(1_000),
    });
    if (!response.ok) return null;
    return ((await response.json()) as { Leader: boolean }).Leader;
  } catch {
    return null;
  }
}

async function waitForIdleJob(instance: Instance): Promise<void> {
  await waitFor(
    async () => {
      const response = await api(
        instance,
        'GET',
        `/api/v1/jobs/${JOB.group}/${JOB.project}/${JOB.id}`,
      );
      if (!response.ok) return false;
      const job = (await response.json()) as { State: string; CurrentTaskID: string };
      return job.State === 'Idle' && job.CurrentTaskID === '';
    },
    'the job to be idle',
    30_000,
    50,
  );
}

function api(
  instance: Instance,
  method: string,
  urlPath: string,
  body?: unknown,
): Promise<Response> {
  return fetch(`${instance.url}${urlPath}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

function stampLines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}
