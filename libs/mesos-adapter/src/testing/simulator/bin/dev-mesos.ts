/**
 * A local Mesos cluster for development: one master and two agents running tasks as local
 * processes, logging what they do. `npm run dev:mesos`; stop with Ctrl-C.
 *
 * Environment: MESOS_SIM_HOST (127.0.0.1), MESOS_SIM_MASTER_PORT (5050), MESOS_SIM_AGENT_PORTS
 * (5051,5052), MESOS_SIM_AGENT_CPUS (4), MESOS_SIM_AGENT_MEM (4096), MESOS_SIM_AGENT_DISK (20000),
 * MESOS_SIM_WORK_DIR (a temporary directory, kept), MESOS_SIM_ALLOCATION_INTERVAL_MS (1000),
 * MESOS_SIM_HEARTBEAT_SECONDS (15), MESOS_SIM_STATUS_UPDATE_RETRY_MS (10000).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MesosSimulator } from '../mesos-simulator';

function numberFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name} must be a number, got '${raw}'`);
  return value;
}

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

async function main(): Promise<void> {
  const agentPorts = (process.env['MESOS_SIM_AGENT_PORTS'] ?? '5051,5052')
    .split(',')
    .map((port) => Number(port.trim()));
  const agent = {
    cpus: numberFrom('MESOS_SIM_AGENT_CPUS', 4),
    mem: numberFrom('MESOS_SIM_AGENT_MEM', 4096),
    disk: numberFrom('MESOS_SIM_AGENT_DISK', 20000),
  };
  // Sandboxes stay after exit so task output can still be read.
  const workDir = process.env['MESOS_SIM_WORK_DIR'] ?? mkdtempSync(join(tmpdir(), 'dev-mesos-'));
  const simulator = await MesosSimulator.start({
    host: process.env['MESOS_SIM_HOST'] ?? '127.0.0.1',
    masterPorts: [numberFrom('MESOS_SIM_MASTER_PORT', 5050)],
    agents: agentPorts.map((port) => ({ ...agent, port })),
    allocationIntervalMs: numberFrom('MESOS_SIM_ALLOCATION_INTERVAL_MS', 1000),
    heartbeatIntervalSeconds: numberFrom('MESOS_SIM_HEARTBEAT_SECONDS', 15),
    statusUpdateRetryMs: numberFrom('MESOS_SIM_STATUS_UPDATE_RETRY_MS', 10_000),
    workDir,
    taskRunner: 'process',
    log,
  });
  log(`Mesos simulator ready: master ${simulator.leaderUrl ?? ''}, sandboxes in ${workDir}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    simulator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`failed to stop: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  log(
    `dev-mesos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
