/**
 * Mesos runner benchmark (issue 4): 1,000 jobs due at the same instant against the simulated
 * master with 10 agents. Measures the time from the due time until all are launched (the last
 * ACCEPT) and until all are recorded Finished, the trigger lag (due → the ACCEPT that launched the
 * job's task), the leader's RSS, and the scheduler calls the burst took. Each round starts its own
 * redis-server (test/support), simulator (in this process, instant tasks) and Rhythm process
 * (`apps/api/src/main.ts` under ts-node, or the built dist), and stops them, also on error, on SIGINT/SIGTERM and when
 * the global time limit passes. Prints markdown and writes .bench/mesos-results.json.
 *
 * Run (no build needed): npm run bench:mesos
 *
 * Environment:
 * - BENCH_MESOS_ROUNDS (1000,100): the simulator's allocation interval (ms) of each round; the
 *   first is a real master's default, the second shows how much of the time is that interval
 * - BENCH_MESOS_JOBS (1000), BENCH_MESOS_AGENTS (10)
 * - BENCH_MESOS_AGENT_CPUS (16), BENCH_MESOS_AGENT_MEM (65536 MB): per agent; the defaults hold
 *   all 1,000 tasks (0.1 cpus, 32 MB) at once, so that the cluster is not the limit
 * - BENCH_MESOS_TASK_MS (10): run time of every task
 * - BENCH_MESOS_TIMEOUT_S (120): per round, from the due time to every run recorded
 * - BENCH_API_NODE_ARGS: extra node flags for the Rhythm process, e.g.
 *   `--cpu-prof --cpu-prof-dir=.bench/mesos-profiles` (written when the process stops)
 * - BENCH_MESOS_DIST (unset): `1` runs the built dist/apps/api/apps/api/src/main.js instead of
 *   the sources under ts-node, whose TypeScript compiler adds to the RSS; the dist must exist (npm
 *   run build) and be as new as the sources; npm start's heap cap is not applied (pass
 *   --max-old-space-size=192 in BENCH_API_NODE_ARGS for it)
 * - BENCH_QUIET_WAIT (120): longest wait, before each round, for other processes to leave the
 *   CPU alone (< 20 % of a core for 3 s); the bench goes on regardless and reports their share
 * - BENCH_REDIS_FSYNC (everysec, as docker-compose.yml)
 * - BENCH_TIMEOUT_S (900): the whole run; on expiry everything is stopped and the exit code is 124
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runBurst, type BurstResult, type BurstSettings } from './mesos/burst';
import { DIST_MAIN, SOURCE_MAIN } from './mesos/rhythm-process';
import { Cleanups, describe, log, positiveNumber, REPO_ROOT } from './scheduler/common';

const RESULTS_DIR = path.join(REPO_ROOT, '.bench');
const RESULTS_FILE = path.join(RESULTS_DIR, 'mesos-results.json');
/** Other processes above this share (% of one core) during a round make it noisy. */
const NOISY_OTHER_PERCENT = 20;

const INTERVALS = (process.env.BENCH_MESOS_ROUNDS?.trim() || '1000,100').split(',').map((raw) => {
  const value = Number(raw.trim());
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`BENCH_MESOS_ROUNDS: '${raw}' is not an allocation interval in ms`);
  }
  return value;
});
const JOBS = positiveNumber('BENCH_MESOS_JOBS', 1_000);
const AGENTS = positiveNumber('BENCH_MESOS_AGENTS', 10);
const AGENT_CPUS = positiveNumber('BENCH_MESOS_AGENT_CPUS', 16);
const AGENT_MEM = positiveNumber('BENCH_MESOS_AGENT_MEM', 65_536);
const TASK_MS = positiveNumber('BENCH_MESOS_TASK_MS', 10);
const ROUND_TIMEOUT_S = positiveNumber('BENCH_MESOS_TIMEOUT_S', 120);
const QUIET_WAIT_S = positiveNumber('BENCH_QUIET_WAIT', 120);
const REDIS_FSYNC = process.env.BENCH_REDIS_FSYNC?.trim() || 'everysec';
const API_NODE_ARGS = (process.env.BENCH_API_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const TIMEOUT_S = positiveNumber('BENCH_TIMEOUT_S', 900);
const FROM_DIST = process.env.BENCH_MESOS_DIST === '1';

interface Results {
  startedAt: string;
  finishedAt?: string;
  machine: Record<string, string | number>;
  code: string;
  rounds: BurstResult[];
  errors: string[];
}

const cleanups = new Cleanups();
let finishing = false;

async function abort(reason: string, code: number): Promise<void> {
  if (finishing) return;
  finishing = true;
  log(`${reason}; stopping everything the bench started`);
  await cleanups.runAll();
  process.exit(code);
}

async function main(): Promise<void> {
  const timer = setTimeout(
    () => void abort(`the bench ran longer than BENCH_TIMEOUT_S=${TIMEOUT_S} s`, 124),
    TIMEOUT_S * 1000,
  );
  const onSignal = (signal: NodeJS.Signals): void => void abort(`got ${signal}`, 130);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const results: Results = {
    startedAt: new Date().toISOString(),
    machine: machineNotes(),
    code: codeNote(),
    rounds: [],
    errors: [],
  };
  try {
    for (const [index, interval] of INTERVALS.entries()) {
      if (finishing) break;
      const settings: BurstSettings = {
        label: `round ${index + 1}, allocation ${interval} ms`,
        jobs: JOBS,
        agents: AGENTS,
        agentCpus: AGENT_CPUS,
        agentMemMb: AGENT_MEM,
        allocationIntervalMs: interval,
        taskDurationMs: TASK_MS,
        timeoutMs: ROUND_TIMEOUT_S * 1000,
        quietWaitSeconds: QUIET_WAIT_S,
        redisFsync: REDIS_FSYNC,
        apiNodeArgs: API_NODE_ARGS,
        fromDist: FROM_DIST,
      };
      log(`== ${settings.label}`);
      try {
        results.rounds.push(await runBurst(settings, cleanups));
      } catch (error) {
        results.errors.push(`${settings.label}: ${describe(error)}`);
        log(`${settings.label} failed: ${describe(error)}`);
      }
    }
  } finally {
    clearTimeout(timer);
    await cleanups.runAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  results.finishedAt = new Date().toISOString();
  process.stdout.write(report(results));
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)}\n`);
  if (results.errors.length > 0 || results.rounds.some(failedChecks)) process.exitCode = 1;
}

/** A duplicate launch, a job never launched or a run not recorded Finished fails the bench. */
function failedChecks(r: BurstResult): boolean {
  const finished = r.records.byState.Finished ?? 0;
  return (
    r.jobsLaunchedTwice > 0 ||
    r.taskIdsInTwoAccepts > 0 ||
    r.launched < r.settings.jobs ||
    finished !== r.settings.jobs ||
    r.records.jobsWithSeveral > 0
  );
}

// ---------------------------------------------------------------------------------------------
// Output

function machineNotes(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    totalMemoryMb: Math.round(os.totalmem() / 1024 / 1024),
  };
}

/** The commit, and the source files that differ from it (others edit the tree meanwhile). */
function codeNote(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trimEnd();
    const changed = git('status', '--porcelain', '--', 'libs', 'apps/api/src')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => line.slice(3));
    const head = git('rev-parse', '--short', 'HEAD');
    return changed.length === 0 ? head : `${head} + local changes to ${changed.join(', ')}`;
  } catch {
    return 'unknown (no git)';
  }
}

function rhythmMain(): string {
  if (!FROM_DIST) return `${SOURCE_MAIN} under ts-node (transpile-only)`;
  try {
    return `${DIST_MAIN} (built ${statSync(path.join(REPO_ROOT, DIST_MAIN)).mtime.toISOString()})`;
  } catch {
    return `${DIST_MAIN} (missing)`;
  }
}

function report(results: Results): string {
  const out: string[] = ['', '## Machine', ''];
  for (const [key, value] of Object.entries(results.machine)) out.push(`- ${key}: ${value}`);
  out.push(
    `- code: ${results.code}`,
    `- Rhythm process: ${rhythmMain()}`,
    `- Redis appendfsync: ${REDIS_FSYNC}`,
    '',
    `## ${JOBS} jobs due at once, ${AGENTS} agents of ${AGENT_CPUS} cpus / ${AGENT_MEM} MB, ` +
      `tasks of ${TASK_MS} ms`,
    '',
    'Times in ms after the due time. Lag = due → the ACCEPT that launched the job (simulator call',
    "times); decision = due → the scheduler's launch decision (task record Start). RSS of the Rhythm",
    'process in MB: before the due time → peak of the burst (peak over its life, start-up and job',
    'creation included, with VmHWM). CPU in % of one core from 500 ms before the due time until',
    'every run was recorded; "sim." is the bench process (simulated master and agents).',
    '',
    '| alloc. ms | load 1/5/15 | last ACCEPT | all recorded | lag p50 | lag p90 | lag p99 | ' +
      'lag max | decision p99 | RSS | ACCEPT | DECLINE | REVIVE | SUPPRESS | dup. | not Finished | ' +
      'CPU Rhythm / redis / sim. / others |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  );
  for (const r of results.rounds) {
    const n = (type: string): number => r.calls[type] ?? 0;
    const notFinished = r.settings.jobs - (r.records.byState.Finished ?? 0);
    const noisy = r.cpu.other > NOISY_OTHER_PERCENT ? ' (noisy)' : '';
    out.push(
      `| ${r.settings.allocationIntervalMs} | ${r.loadAverage.join(' / ')} | ${ms(r.lastAcceptMs)} | ` +
        `${ms(r.allRecordedMs)} | ${ms(r.lagMs?.p50)} | ${ms(r.lagMs?.p90)} | ${ms(r.lagMs?.p99)} | ` +
        `${ms(r.lagMs?.max)} | ${ms(r.decisionLagMs?.p99)} | ${r.rssMb.beforeDue.toFixed(0)} → ` +
        `${r.rssMb.burstPeak.toFixed(0)} (${r.rssMb.lifetimePeak.toFixed(0)}) | ` +
        `${n('ACCEPT')} | ${n('DECLINE')} | ${n('REVIVE')} | ${n('SUPPRESS')} | ` +
        `${r.jobsLaunchedTwice + r.taskIdsInTwoAccepts} | ${notFinished} | ` +
        `${pct(r.cpu.rhythm)} / ${pct(r.cpu.redis)} / ${pct(r.cpu.simulator)} / ` +
        `${pct(r.cpu.other)}${noisy} |`,
    );
  }
  out.push('', 'Per round:', '');
  for (const r of results.rounds) {
    out.push(
      `- allocation ${r.settings.allocationIntervalMs} ms, due ${r.due}: ${r.launched} jobs launched ` +
        `(${r.jobsLaunchedTwice} with two tasks, ${r.taskIdsInTwoAccepts} task ids in two ACCEPTs); ` +
        `first REVIVE ${ms(r.firstReviveMs)}, first ACCEPT ${ms(r.firstAcceptMs)}, last ACCEPT ` +
        `${ms(r.lastAcceptMs)}, last TASK_FINISHED sent ${ms(r.lastFinishedUpdateMs)}, last ` +
        `ACKNOWLEDGE ${ms(r.lastAcknowledgeMs)}, all recorded ${ms(r.allRecordedMs)}; ` +
        `ACCEPTs (ms: tasks on agent) ` +
        `${r.accepts.map((a) => `${a.atMs}: ${a.tasks} on ${a.agent}`).join(', ')}; ` +
        `${r.offerEvents} OFFERS events with ${r.offersSent} offers; updates ` +
        `${JSON.stringify(r.updates)}; calls ` +
        `${JSON.stringify(r.calls)} (${r.callsNot2xx} not 2xx), DECLINE refuse_seconds ` +
        `${JSON.stringify(r.declineRefuseSeconds)}; records ${JSON.stringify(r.records)}; ` +
        `lag histogram ${r.histogram.count} samples, p99 ≤ ${r.histogram.p99AtMostSeconds} s; ` +
        `decision lag p50 ${ms(r.decisionLagMs?.p50)} / max ${ms(r.decisionLagMs?.max)}; ` +
        `jobs created in ${r.createSeconds.toFixed(1)} s; calls but ACKNOWLEDGE, and OFFERS ` +
        `events (ms after due): ` +
        compactTimeline(r.timeline),
    );
  }
  for (const r of results.rounds) {
    if (r.rhythmOutput.trim() === '') continue;
    out.push('', `Rhythm's log (errors), allocation ${r.settings.allocationIntervalMs} ms:`, '');
    out.push('```', r.rhythmOutput.trim().slice(-1500), '```');
  }
  for (const error of results.errors) out.push('', '**failed**:', '', '```', error, '```');
  return `${out.join('\n')}\n`;
}

/** Runs of the same call collapsed: `33 REVIVE ×32` instead of 32 entries. */
function compactTimeline(entries: readonly string[]): string {
  const out: string[] = [];
  let run = 0;
  for (let i = 0; i < entries.length; i++) {
    run++;
    const kind = (entry: string | undefined): string => entry?.split(' ')[1] ?? '';
    if (kind(entries[i + 1]) === kind(entries[i]) && kind(entries[i]) === 'REVIVE') continue;
    out.push(run > 1 ? `${entries[i - run + 1]}…${entries[i].split(' ')[0]} ×${run}` : entries[i]);
    run = 0;
  }
  return out.join(', ');
}

function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? 'never' : String(Math.round(value));
}

function pct(value: number): string {
  return `${value.toFixed(0)} %`;
}

main().catch(async (error: unknown) => {
  log(`bench failed: ${describe(error)}`);
  await cleanups.runAll();
  process.exitCode = 1;
});
