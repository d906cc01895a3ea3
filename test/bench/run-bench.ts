/**
 * HTTP benchmark of the built API (see docs/benchmarks.md). Run with `npm run bench`.
 *
 * For each store (redis, then embedded) and each data set size it starts a fresh redis-server (for
 * redis) and a fresh API child process, seeds the jobs over HTTP, and drives three scenarios with
 * autocannon: GET one job, GET the list of all jobs, and POST new jobs, in that order so that the
 * list sees exactly the seeded number of jobs. Everything it starts it stops again, also on error.
 *
 * Environment: BENCH_DURATION (seconds per measured run, default 10), BENCH_WARMUP (seconds of the
 * unreported warm-up run before each scenario, default 2), BENCH_SIZES (comma-separated job
 * counts, default 1000,17500), BENCH_STORES (comma-separated, default redis,embedded),
 * BENCH_API_NODE_ARGS (extra node flags for the API process only, e.g. --max-semi-space-size=8),
 * BENCH_QUIET_WAIT (seconds to wait, before each data set, for other processes to leave the CPU
 * alone, default 120; the bench goes on regardless afterwards and reports their share per run),
 * BENCH_CRON (the schedule of every benchmark job, default '0 0 1 1 *' so that the scheduler
 * launches no runs while the API is measured; '*\/5 * * * *' makes all jobs fire together),
 * BENCH_CEILINGS (servers without the app measured first with the same GET and POST loads,
 * default express,node; none to skip).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort } from '../support/free-port';
import { RedisServer } from '../support/redis-server';

// ---------------------------------------------------------------------------------------------
// The part of autocannon's JS API this file uses (the package ships no types).

interface AutocannonHistogram {
  readonly average: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly total?: number;
}

interface AutocannonResult {
  readonly duration: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly latency: AutocannonHistogram;
  readonly requests: AutocannonHistogram;
  readonly statusCodeStats: Readonly<Record<string, { readonly count: number }>>;
}

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}

interface AutocannonOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration?: number;
  readonly amount?: number;
  readonly timeout?: number;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly requests?: AutocannonRequest[];
}

interface AutocannonInstance extends PromiseLike<AutocannonResult> {
  on(
    event: 'response',
    listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void,
  ): this;
  stop(): void;
}

type Autocannon = (options: AutocannonOptions) => AutocannonInstance;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

// ---------------------------------------------------------------------------------------------
// Configuration

type StoreKind = 'redis' | 'embedded';

const REPO_ROOT = path.resolve(__dirname, '../../../../..');
const API_MAIN = path.resolve(__dirname, '../../apps/api/src/main.js');
const CEILING_MAIN = path.resolve(__dirname, 'http-ceiling-server.js');
const RESULTS_FILE = path.join(REPO_ROOT, '.bench', 'results.json');

const DURATION_S = positiveNumber('BENCH_DURATION', 10);
const WARMUP_S = positiveNumber('BENCH_WARMUP', 2);
const SIZES = list('BENCH_SIZES', ['1000', '17500']).map((size) => {
  const value = Number(size);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(`bad size in BENCH_SIZES: ${size}`);
  }
  return value;
});
// By default the API runs with the heap cap `npm start` and the Docker image give it.
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS ?? '--max-old-space-size=192')
  .split(' ')
  .filter((arg) => arg !== '');
const STORES = list('BENCH_STORES', ['redis', 'embedded']).map((store): StoreKind => {
  if (store !== 'redis' && store !== 'embedded') throw new Error(`bad store: ${store}`);
  return store;
});
type CeilingKind = 'express' | 'node';
const CEILINGS = list('BENCH_CEILINGS', ['express', 'node'])
  .filter((kind) => kind !== 'none')
  .map((kind): CeilingKind => {
    if (kind !== 'express' && kind !== 'node') throw new Error(`bad ceiling: ${kind}`);
    return kind;
  });

const GROUPS = 50;
const PROJECTS_PER_GROUP = 5;
const SEED_CONCURRENCY = 32;
const GET_CONNECTIONS = 32;
const POST_CONNECTIONS = 16;
const LIST_MIN_REQUESTS = 20;
const RSS_SAMPLE_MS = 100;
const QUIET_WAIT_S = positiveNumber('BENCH_QUIET_WAIT', 120);
const CRON = process.env.BENCH_CRON?.trim() || '0 0 1 1 *';
/** Other processes using less than this (% of one core) for 3 s in a row count as quiet. */
const QUIET_OTHER_PERCENT = 20;
const MB = 1024 * 1024;

const GOALS = {
  getReqPerSec: 7500,
  postReqPerSec: 3000,
  postP99Ms: 30,
  listP50Ms: (jobs: number): number => (jobs <= 1000 ? 20 : 300),
  peakRssMb: 250,
};

// ---------------------------------------------------------------------------------------------
// Result rows

interface Row {
  /** The store, or the ceiling server (`no app: express`, `no app: node:http`). */
  store: string;
  jobs: number;
  scenario: string;
  connections: number | null;
  reqPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  requests: number | null;
  non2xx: number | null;
  errors: number | null;
  peakRssMb: number | null;
  goal: string;
  pass: boolean;
  note?: string;
  /** autocannon's own figures (whole-millisecond latency histogram, mean of per-second counts). */
  autocannon?: Measured['autocannon'];
  /** Where the machine's CPU went during the measured run, in % of one core. */
  cpu?: CpuSplit;
  /** Peak RSS of each phase of the data set run, warm-ups included (the peak RSS row only). */
  phasePeakRssMb?: Record<string, number>;
  /** Files and folders the local runner wrote: 0 unless the scheduler launched runs. */
  runLogEntries?: number;
}

interface CpuSplit {
  readonly api: number;
  /** redis-server (for the redis store); nothing else is started. */
  readonly redis: number;
  /** This process: autocannon and the RSS sampler. */
  readonly bench: number;
  /** Everything else on the machine, e.g. other people's builds: a noisy neighbour. */
  readonly other: number;
  /** Cores busy in all, in % of one core (200 = both cores of a 2-core machine). */
  readonly machine: number;
}

interface Measured {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly statusCodes: Readonly<Record<string, number>>;
  readonly autocannon: {
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly avgReqPerSec: number;
  };
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** Everything still running that must be stopped, should the bench fail or be interrupted. */
const cleanups = new Set<() => Promise<void>>();

let interrupted = false;
let currentLoad: AutocannonInstance | null = null;

function checkInterrupted(): void {
  if (interrupted) throw new Error('interrupted');
}

class ApiProcess {
  private stderr = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error('the API process has no pid');
    return pid;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * Runs in `workDir`, so that nothing it writes lands in the repository. `main` is the API, or a
   * ceiling server (which takes the port as its last argument).
   */
  static async start(
    env: Record<string, string>,
    workDir: string,
    main: readonly string[] = [API_MAIN],
  ): Promise<ApiProcess> {
    if (!existsSync(main[0])) throw new Error(`${main[0]} is missing; run npm run build first`);
    const port = await freePort();
    const args = main[0] === API_MAIN ? main : [...main, String(port)];
    const child = spawn(process.execPath, [...API_NODE_ARGS, ...args], {
      env: { ...process.env, ...env, RHYTHM_ADDR: `127.0.0.1:${port}`, RHYTHM_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: workDir,
    });
    const api = new ApiProcess(child, port);
    try {
      await api.waitForHealth();
    } catch (error) {
      await api.stop();
      throw error;
    }
    return api;
  }

  private async waitForHealth(): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the API exited during start-up: ${this.stderr.trim()}`);
      }
      try {
        const response = await request(this.port, 'GET', '/api/v1/health');
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`the API did not become healthy within 30 s: ${this.stderr.trim()}`);
  }

  /** SIGTERM (graceful shutdown closes the store), SIGKILL if it takes more than 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Samples VmRSS of a process every 100 ms; keeps the overall peak, the peak of the current window
 * and the peak of each named phase (warm-ups included), to tell where the peak happened.
 */
class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private peakKb = 0;
  private windowPeakKb = 0;
  private phase = 'start-up';
  readonly phasePeaksKb = new Map<string, number>();

  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  sample(): void {
    const kb = readStatusKb(this.pid, 'VmRSS');
    if (kb === null) return;
    this.peakKb = Math.max(this.peakKb, kb);
    this.windowPeakKb = Math.max(this.windowPeakKb, kb);
    this.phasePeaksKb.set(this.phase, Math.max(this.phasePeaksKb.get(this.phase) ?? 0, kb));
  }

  enterPhase(phase: string): void {
    this.sample();
    this.phase = phase;
    this.sample();
  }

  phasePeaksMb(): Record<string, number> {
    this.sample();
    const peaks: Record<string, number> = {};
    for (const [phase, kb] of this.phasePeaksKb) peaks[phase] = Math.round(kb / 102.4) / 10;
    return peaks;
  }

  startWindow(): void {
    this.windowPeakKb = 0;
    this.sample();
  }

  windowPeakMb(): number {
    this.sample();
    return this.windowPeakKb / 1024;
  }

  peakMb(): number {
    this.sample();
    return this.peakKb / 1024;
  }

  /** The kernel's own high-water mark, which no sampling interval can miss. */
  highWaterMarkMb(): number | null {
    const kb = readStatusKb(this.pid, 'VmHWM');
    return kb === null ? null : kb / 1024;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Entries below `dir`, recursively; 0 when it does not exist. */
function countEntries(dir: string): number {
  try {
    return readdirSync(dir, { recursive: true }).length;
  } catch {
    return 0;
  }
}

function readStatusKb(pid: number, field: string): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time of one process (all threads) in clock ticks, or null once it is gone. */
function processTicks(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy clock ticks of the whole machine (everything but idle and iowait). */
function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  const values = line.trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal
  const [user, nice, system, , , irq, softirq, steal] = values;
  return user + nice + system + irq + softirq + steal;
}

/** Child processes of this process (the API and redis-server). */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === process.pid) pids.push(Number(entry));
  }
  return pids;
}

/** Splits the machine's CPU time over one window between the API, redis, this process and others. */
class CpuMeter {
  private readonly startedAt = performance.now();
  private readonly machineStart = machineBusyTicks();
  private readonly starts: ReadonlyMap<number, number>;

  constructor(private readonly apiPid: number) {
    const pids = [process.pid, ...childPids()];
    this.starts = new Map(pids.map((pid) => [pid, processTicks(pid) ?? 0]));
  }

  stop(): CpuSplit {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const percent = (ticks: number): number => (100 * ticks) / CLOCK_TICKS_PER_S / seconds;
    let api = 0;
    let redis = 0;
    let bench = 0;
    for (const [pid, start] of this.starts) {
      const used = (processTicks(pid) ?? start) - start;
      if (pid === process.pid) bench += used;
      else if (pid === this.apiPid) api += used;
      else redis += used;
    }
    const machine = machineBusyTicks() - this.machineStart;
    return {
      api: percent(api),
      redis: percent(redis),
      bench: percent(bench),
      other: Math.max(0, percent(machine - api - redis - bench)),
      machine: percent(machine),
    };
  }
}

/** Waits until processes that are not ours leave the CPU alone for 3 s, or QUIET_WAIT_S passed. */
async function waitForQuiet(label: string): Promise<void> {
  const deadline = performance.now() + QUIET_WAIT_S * 1000;
  let quietSeconds = 0;
  let announced = false;
  while (quietSeconds < 3) {
    checkInterrupted();
    const meter = new CpuMeter(-1);
    await sleep(1000);
    const other = meter.stop().other;
    quietSeconds = other < QUIET_OTHER_PERCENT ? quietSeconds + 1 : 0;
    if (quietSeconds === 0 && !announced) {
      log(`${label} other processes use ${other.toFixed(0)}% CPU; waiting up to ${QUIET_WAIT_S} s`);
      announced = true;
    }
    if (quietSeconds < 3 && performance.now() > deadline) {
      log(`${label} the machine did not get quiet; going on (see the CPU table)`);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

const agent = new http.Agent({ keepAlive: true, maxSockets: SEED_CONCURRENCY });

interface SimpleResponse {
  readonly status: number;
  readonly body: string;
}

function request(
  port: number,
  method: string,
  urlPath: string,
  body?: string,
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

interface JobName {
  readonly group: string;
  readonly project: string;
  readonly id: string;
}

/** Seeded job number `n`: spread over 50 groups of 5 projects each. */
function seededJob(n: number): JobName {
  return {
    group: `group-${n % GROUPS}`,
    project: `project-${Math.floor(n / GROUPS) % PROJECTS_PER_GROUP}`,
    id: `job-${n}`,
  };
}

function jobBody(name: JobName): string {
  return JSON.stringify({
    group: name.group,
    project: name.project,
    id: name.id,
    cpus: 1,
    mem: 128,
    cmd: 'echo hi',
    env: { FOO: 'foo' },
    schedule: { cron: CRON },
    container: { docker: { image: 'alpine:3.8' } },
  });
}

async function seed(api: ApiProcess, jobs: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const failures: string[] = [];
  const worker = async (): Promise<void> => {
    while (next < jobs) {
      checkInterrupted();
      const n = next++;
      const response = await request(api.port, 'POST', '/api/v1/jobs', jobBody(seededJob(n)));
      if (response.status !== 204) failures.push(`job ${n}: ${response.status} ${response.body}`);
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  if (failures.length > 0) {
    throw new Error(`${failures.length} seed requests failed, first: ${failures[0]}`);
  }
  return (performance.now() - started) / 1000;
}

async function countListed(api: ApiProcess): Promise<number> {
  const response = await request(api.port, 'GET', '/api/v1/jobs');
  if (response.status !== 200) throw new Error(`GET /api/v1/jobs answered ${response.status}`);
  const parsed: unknown = JSON.parse(response.body);
  if (!Array.isArray(parsed)) throw new Error('GET /api/v1/jobs did not answer an array');
  return parsed.length;
}

// ---------------------------------------------------------------------------------------------
// Load runs

interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly requests?: AutocannonRequest[];
}

/**
 * One autocannon run. Latencies of 2xx answers are also collected raw (autocannon's own
 * histogram truncates to whole milliseconds) and the reported percentiles are computed from them.
 */
async function load(
  spec: LoadSpec,
  limit: { duration: number } | { amount: number },
): Promise<Measured> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    timeout: 60,
    ...limit,
    ...(spec.requests ? { requests: spec.requests } : {}),
  });
  currentLoad = instance;
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTimeMs);
  });
  let result: AutocannonResult;
  try {
    result = await instance;
  } finally {
    currentLoad = null;
  }
  checkInterrupted();
  latencies.sort((a, b) => a - b);
  const statusCodes: Record<string, number> = {};
  let total = 0;
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) {
    statusCodes[code] = count;
    total += count;
  }
  return {
    reqPerSec: total / result.duration,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    requests: total,
    non2xx: result.non2xx,
    errors: result.errors,
    statusCodes,
    autocannon: {
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      avgReqPerSec: result.requests.average,
    },
  };
}

/** Nearest-rank percentile of sorted values; NaN when there are none. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

// ---------------------------------------------------------------------------------------------
// One data set on one store

let postSerial = 0;

async function benchDataset(store: StoreKind, jobs: number, rows: Row[]): Promise<void> {
  let redis: RedisServer | null = null;
  let api: ApiProcess | null = null;
  let sampler: RssSampler | null = null;
  // Data (embedded store) and the local runner's logs: a temporary directory per data set.
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'rhythm-bench-'));
  const logDir = path.join(workDir, 'logs');
  const cleanup = async (): Promise<void> => {
    sampler?.stop();
    await api?.stop();
    await redis?.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    await waitForQuiet(`[${store} ${jobs}]`);
    const env: Record<string, string> = { RHYTHM_STORAGE: store, RHYTHM_LOG_DIR: logDir };
    if (store === 'redis') {
      redis = await RedisServer.start();
      env.RHYTHM_REDIS_URL = redis.url;
    } else {
      env.RHYTHM_DATA_DIR = path.join(workDir, 'data');
    }
    api = await ApiProcess.start(env, workDir);
    sampler = new RssSampler(api.pid);
    const base = { store, jobs };
    log(`[${store} ${jobs}] API pid ${api.pid} on port ${api.port}; seeding ${jobs} jobs`);

    sampler.enterPhase('seed');
    let close = openWindow(sampler, api.pid);
    const seedSeconds = await seed(api, jobs);
    sampler.enterPhase('count check (1 list)');
    const listed = await countListed(api);
    if (listed !== jobs) throw new Error(`seeded ${jobs} jobs but the list holds ${listed}`);
    rows.push({
      ...base,
      scenario: 'seed (POST, bounded concurrency)',
      connections: SEED_CONCURRENCY,
      reqPerSec: jobs / seedSeconds,
      p50Ms: null,
      p99Ms: null,
      requests: jobs,
      non2xx: 0,
      errors: 0,
      ...close(),
      goal: '-',
      pass: true,
      note: `${seedSeconds.toFixed(1)} s; list holds ${listed} jobs afterwards`,
    });

    // a. GET one job.
    const getSpec = getOneJobSpec(api, seededJob(Math.floor(jobs / 2)));
    log(`[${store} ${jobs}] GET one job`);
    sampler.enterPhase('GET one job: warm-up');
    await load(getSpec, { duration: WARMUP_S });
    sampler.enterPhase('GET one job');
    close = openWindow(sampler, api.pid);
    const get = await load(getSpec, { duration: DURATION_S });
    const getPass = get.reqPerSec >= GOALS.getReqPerSec && get.non2xx === 0 && get.errors === 0;
    rows.push({
      ...base,
      ...measuredColumns(get),
      scenario: 'GET one job',
      connections: GET_CONNECTIONS,
      ...close(),
      goal: `>= ${GOALS.getReqPerSec} req/s`,
      pass: getPass,
    });

    // c. GET the list of all jobs, one request at a time, before any POST adds jobs.
    const listSpec: LoadSpec = { url: `${api.baseUrl}/api/v1/jobs`, connections: 1 };
    log(`[${store} ${jobs}] GET list of all jobs`);
    sampler.enterPhase('GET list: warm-up');
    const listWarmup = await load(listSpec, { duration: WARMUP_S });
    // As many requests as fit the duration at the warm-up's pace, but at least 20.
    const amount = Math.max(
      LIST_MIN_REQUESTS,
      Math.round((listWarmup.requests / WARMUP_S) * DURATION_S),
    );
    sampler.enterPhase('GET list');
    close = openWindow(sampler, api.pid);
    const listRun = await load(listSpec, { amount });
    const listGoal = GOALS.listP50Ms(jobs);
    rows.push({
      ...base,
      ...measuredColumns(listRun),
      scenario: `GET list of all ${jobs} jobs`,
      connections: 1,
      ...close(),
      goal: `p50 <= ${listGoal} ms`,
      pass: listRun.p50Ms <= listGoal && listRun.non2xx === 0 && listRun.errors === 0,
      note: `${amount} sequential requests`,
    });

    // The memory goal is for the seeded data set: measured before POST adds jobs to it.
    rows.push(peakRssRow(base, sampler, `peak RSS with the ${jobs} seeded jobs (start-up → list)`));

    // b. POST new jobs, each with a fresh id, after the list so it saw exactly `jobs` jobs.
    const postSpec = postNewJobSpec(api);
    log(`[${store} ${jobs}] POST new jobs`);
    sampler.enterPhase('POST new job: warm-up');
    const postWarmup = await load(postSpec, { duration: WARMUP_S });
    sampler.enterPhase('POST new job');
    close = openWindow(sampler, api.pid);
    const post = await load(postSpec, { duration: DURATION_S });
    const postPass =
      post.reqPerSec >= GOALS.postReqPerSec &&
      post.p99Ms <= GOALS.postP99Ms &&
      post.non2xx === 0 &&
      post.errors === 0;
    rows.push({
      ...base,
      ...measuredColumns(post),
      scenario: 'POST new job',
      connections: POST_CONNECTIONS,
      ...close(),
      goal: `>= ${GOALS.postReqPerSec} req/s, p99 <= ${GOALS.postP99Ms} ms, 0 non-2xx`,
      pass: postPass,
      note: `status codes ${JSON.stringify(post.statusCodes)}`,
    });

    const added = (postWarmup.statusCodes['204'] ?? 0) + (post.statusCodes['204'] ?? 0);
    const whole = peakRssRow(
      base,
      sampler,
      `peak RSS, whole run (with the ${added} jobs POST added)`,
      countEntries(logDir),
    );
    rows.push({ ...whole, goal: '-', pass: true, phasePeakRssMb: sampler.phasePeaksMb() });
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

/** The API's peak RSS so far: the larger of the samples' maximum and the kernel's VmHWM. */
function peakRssRow(
  base: { store: StoreKind; jobs: number },
  sampler: RssSampler,
  scenario: string,
  runLogEntries?: number,
): Row {
  const peak = sampler.peakMb();
  const hwm = sampler.highWaterMarkMb();
  const peakRssMb = Math.max(peak, hwm ?? 0);
  return {
    ...base,
    scenario,
    connections: null,
    reqPerSec: null,
    p50Ms: null,
    p99Ms: null,
    requests: null,
    non2xx: null,
    errors: null,
    peakRssMb,
    ...(runLogEntries === undefined ? {} : { runLogEntries }),
    goal: `<= ${GOALS.peakRssMb} MB`,
    pass: peakRssMb <= GOALS.peakRssMb,
    note:
      `max of VmRSS sampled every ${RSS_SAMPLE_MS} ms (${peak.toFixed(1)} MB) and the kernel's ` +
      `VmHWM (${hwm === null ? 'n/a' : `${hwm.toFixed(1)} MB`})` +
      (runLogEntries === undefined
        ? ''
        : `; ${runLogEntries} entries in the local runner's log directory`),
  };
}

function getOneJobSpec(api: ApiProcess, job: JobName): LoadSpec {
  return {
    url: `${api.baseUrl}/api/v1/jobs/${job.group}/${job.project}/${job.id}`,
    connections: GET_CONNECTIONS,
  };
}

/** POSTs of new jobs, each with a fresh id. */
function postNewJobSpec(api: ApiProcess): LoadSpec {
  return {
    url: api.baseUrl,
    connections: POST_CONNECTIONS,
    requests: [
      {
        method: 'POST',
        path: '/api/v1/jobs',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => {
          const n = postSerial++;
          return {
            ...req,
            body: jobBody({ group: `bench-${n % GROUPS}`, project: 'post', id: `post-${n}` }),
          };
        },
      },
    ],
  };
}

/**
 * The same GET and POST loads against a server with no application behind its routes (see
 * http-ceiling-server.ts): the most this machine gives Express 5, or node:http, today.
 */
async function benchCeiling(kind: CeilingKind, rows: Row[]): Promise<void> {
  const label = kind === 'express' ? 'no app: express' : 'no app: node:http';
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'rhythm-bench-'));
  let server: ApiProcess | null = null;
  const cleanup = async (): Promise<void> => {
    await server?.stop();
    rmSync(workDir, { recursive: true, force: true });
  };
  cleanups.add(cleanup);
  try {
    await waitForQuiet(`[${label}]`);
    server = await ApiProcess.start({}, workDir, [CEILING_MAIN, kind]);
    const sampler = new RssSampler(server.pid);
    try {
      const scenarios: Array<[string, LoadSpec, number]> = [
        ['GET one job', getOneJobSpec(server, seededJob(0)), GET_CONNECTIONS],
        ['POST new job', postNewJobSpec(server), POST_CONNECTIONS],
      ];
      for (const [scenario, spec, connections] of scenarios) {
        log(`[${label}] ${scenario}`);
        await load(spec, { duration: WARMUP_S });
        const close = openWindow(sampler, server.pid);
        const measured = await load(spec, { duration: DURATION_S });
        rows.push({
          store: label,
          jobs: 0,
          ...measuredColumns(measured),
          scenario,
          connections,
          ...close(),
          goal: '-',
          pass: true,
          note: 'ceiling: the route answers a constant job (GET) or parses the body (POST)',
        });
      }
    } finally {
      sampler.stop();
    }
  } finally {
    cleanups.delete(cleanup);
    await cleanup();
  }
}

/** Starts a measured window; the returned function ends it with its peak RSS and CPU split. */
function openWindow(
  sampler: RssSampler,
  apiPid: number,
): () => { peakRssMb: number; cpu: CpuSplit } {
  sampler.startWindow();
  const meter = new CpuMeter(apiPid);
  return () => ({ cpu: meter.stop(), peakRssMb: sampler.windowPeakMb() });
}

function measuredColumns(
  m: Measured,
): Pick<Row, 'reqPerSec' | 'p50Ms' | 'p99Ms' | 'requests' | 'non2xx' | 'errors' | 'autocannon'> {
  return {
    reqPerSec: m.reqPerSec,
    p50Ms: m.p50Ms,
    p99Ms: m.p99Ms,
    requests: m.requests,
    non2xx: m.non2xx,
    errors: m.errors,
    autocannon: m.autocannon,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function machineNotes(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    totalMemoryMb: Math.round(os.totalmem() / MB),
    platform: `${os.platform()} ${os.release()}`,
  };
}

function markdownTable(rows: readonly Row[]): string {
  const header = [
    'store',
    'jobs',
    'scenario',
    'connections',
    'req/s',
    'p50 ms',
    'p99 ms',
    'non-2xx',
    'peak RSS MB',
    'goal',
    'pass/fail',
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `| ${header.map((_, i) => (i === 1 || (i >= 3 && i <= 8) ? '---:' : '---')).join(' | ')} |`,
  ];
  for (const row of rows) {
    const cells = [
      row.store,
      String(row.jobs),
      row.scenario,
      row.connections === null ? '-' : String(row.connections),
      fmt(row.reqPerSec, 0),
      fmt(row.p50Ms, 1),
      fmt(row.p99Ms, 1),
      row.non2xx === null ? '-' : String(row.non2xx + (row.errors ?? 0)),
      fmt(row.peakRssMb, 0),
      row.goal,
      row.goal === '-' ? '-' : row.pass ? 'pass' : '**FAIL**',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function notesList(rows: readonly Row[]): string {
  return rows
    .filter((row) => row.note !== undefined)
    .map((row) => `- ${row.store}, ${row.jobs} jobs, ${row.scenario}: ${row.note}`)
    .join('\n');
}

function rssPhaseTable(rows: readonly Row[]): string {
  const peakRows = rows.filter((row) => row.phasePeakRssMb !== undefined);
  const phases = [...new Set(peakRows.flatMap((row) => Object.keys(row.phasePeakRssMb ?? {})))];
  const lines = [
    `| store | jobs | ${phases.join(' | ')} |`,
    `| --- | ---: | ${phases.map(() => '---:').join(' | ')} |`,
  ];
  for (const row of peakRows) {
    const cells = phases.map((phase) => fmt(row.phasePeakRssMb?.[phase] ?? null, 0));
    lines.push(`| ${row.store} | ${row.jobs} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function cpuTable(rows: readonly Row[]): string {
  const lines = [
    '| store | jobs | scenario | API | redis-server | bench (autocannon) | other processes | machine |',
    '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    const cpu = row.cpu;
    if (!cpu) continue;
    const cells = [cpu.api, cpu.redis, cpu.bench, cpu.other, cpu.machine].map(
      (v) => `${v.toFixed(0)}%`,
    );
    lines.push(`| ${row.store} | ${row.jobs} | ${row.scenario} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

function fmt(value: number | null, digits: number): string {
  return value === null || Number.isNaN(value) ? '-' : value.toFixed(digits);
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}

function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

function list(name: string, fallback: string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  return raw
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const notes = machineNotes();
  const rows: Row[] = [];
  const startedAt = new Date();
  const onSignal = (): void => {
    log('interrupted; stopping the servers');
    interrupted = true;
    process.exitCode = 130;
    currentLoad?.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (const kind of CEILINGS) await benchCeiling(kind, rows);
    for (const store of STORES) {
      for (const jobs of SIZES) {
        await benchDataset(store, jobs, rows);
      }
    }
  } finally {
    agent.destroy();
    for (const cleanup of [...cleanups].reverse()) await cleanup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  const method = [
    `Each store and data set size gets a fresh redis-server (redis: appendonly, appendfsync always)`,
    `or a fresh temporary data directory (embedded) and a fresh API process.`,
    `Order per data set: seed, GET one job, GET list (before any POST, so it lists exactly the`,
    `seeded jobs; checked), POST new jobs. Each scenario runs a ${WARMUP_S} s unreported warm-up`,
    `first, then ${DURATION_S} s measured (the list: as many sequential requests as the warm-up pace`,
    `fits in ${DURATION_S} s, at least ${LIST_MIN_REQUESTS}). req/s = answers / run time; p50/p99`,
    `from the raw latency of each 2xx answer. non-2xx counts non-2xx answers plus socket errors.`,
    `autocannon runs in this process and shares the machine's CPUs with the API and redis-server.`,
    `Every job's schedule is '${CRON}'${CRON === '0 0 1 1 *' ? ', so the scheduler launches no runs during the bench' : ''};`,
    `the peak RSS row's runLogEntries (JSON) counts what the local runner wrote.`,
  ].join(' ');

  const table = markdownTable(rows);
  process.stdout.write('\n## Machine\n\n');
  for (const [key, value] of Object.entries(notes)) process.stdout.write(`- ${key}: ${value}\n`);
  process.stdout.write(`\n## Method\n\n${method}\n\n## Results\n\n${table}\n`);
  process.stdout.write(`\nNotes:\n\n${notesList(rows)}\n`);
  process.stdout.write(
    `\n## CPU during each run (% of one core; ${notes.cpus} cores = ${Number(notes.cpus) * 100}%)\n\n${cpuTable(rows)}\n`,
  );
  process.stdout.write(
    `\n## Peak RSS of the API by phase (MB, sampled every ${RSS_SAMPLE_MS} ms)\n\n${rssPhaseTable(rows)}\n`,
  );

  mkdirSync(path.dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify(
      {
        startedAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        machine: notes,
        settings: { durationS: DURATION_S, warmupS: WARMUP_S, sizes: SIZES, stores: STORES },
        method,
        goals: { ...GOALS, listP50Ms: { 1000: 20, 17500: 300 } },
        rows,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
