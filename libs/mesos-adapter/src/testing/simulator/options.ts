/** Options of the Mesos simulator; every field has the default a real cluster (or a test) wants. */

export interface StaticReservation {
  role: string;
  cpus?: number;
  mem?: number;
  disk?: number;
}

export interface AgentOptions {
  cpus?: number;
  /** MB. */
  mem?: number;
  /** MB; 0 leaves the `disk` resource out. */
  disk?: number;
  /** Agent API port; 0 (default) picks a free one. */
  port?: number;
  /** Static reservations (like `--resources='cpus(role):1'`), carved out of the totals. */
  reservations?: StaticReservation[];
  /** TEXT attributes put on `AgentInfo` and offers. */
  attributes?: Record<string, string>;
}

export type TaskRunnerKind = 'process' | 'instant';

export interface MesosSimulatorOptions {
  /** Number of masters; master 0 leads at start. Default 1. */
  masters?: number;
  /** Fixed master ports, by index; missing or 0 picks a free port. */
  masterPorts?: number[];
  /** Address every server listens on. Default 127.0.0.1. */
  host?: string;
  /** Agents; default two agents of 4 cpus, 4096 MB mem, 20000 MB disk. */
  agents?: AgentOptions[];
  /** How often the allocator makes offers. Default 1000 ms (master `--allocation_interval`). */
  allocationIntervalMs?: number;
  /** HEARTBEAT period on subscription streams. Default 15 s. */
  heartbeatIntervalSeconds?: number;
  /** Rescind offers not answered within this time (`--offer_timeout`). Default: never. */
  offerTimeoutMs?: number;
  /** First status update retry interval; doubles on every retry. Default 10 s. */
  statusUpdateRetryMs?: number;
  /** Cap of the retry interval. Default 10 min. */
  statusUpdateRetryMaxMs?: number;
  /** Where agents make sandboxes. Default: a new temporary directory, removed by `stop()`. */
  workDir?: string;
  /** `process` runs commands as local processes; `instant` finishes every task after a delay. */
  taskRunner?: TaskRunnerKind;
  /** Run time of a task under the `instant` runner. Default 10 ms. */
  instantTaskDurationMs?: number;
  /** Time between SIGTERM and SIGKILL when a task is killed (command executor default 3 s). */
  killGracePeriodMs?: number;
  /** Receives one line per notable thing the simulator does. */
  log?: (line: string) => void;
}

export interface ResolvedAgentOptions {
  cpus: number;
  mem: number;
  disk: number;
  port: number;
  reservations: StaticReservation[];
  attributes: Record<string, string>;
}

export interface ResolvedOptions {
  masters: number;
  masterPorts: number[];
  host: string;
  agents: ResolvedAgentOptions[];
  allocationIntervalMs: number;
  heartbeatIntervalSeconds: number;
  offerTimeoutMs: number | null;
  statusUpdateRetryMs: number;
  statusUpdateRetryMaxMs: number;
  workDir: string | null;
  taskRunner: TaskRunnerKind;
  instantTaskDurationMs: number;
  killGracePeriodMs: number;
  log: (line: string) => void;
}

/** The version this simulator reports, the last Apache Mesos release. */
export const MESOS_VERSION = '1.11.0';

const DEFAULT_AGENT: AgentOptions = { cpus: 4, mem: 4096, disk: 20000 };

export function resolveOptions(options: MesosSimulatorOptions = {}): ResolvedOptions {
  const masters = options.masters ?? 1;
  if (!Number.isInteger(masters) || masters < 1) {
    throw new RangeError(`masters must be a positive integer, got ${masters}`);
  }
  const agents = (options.agents ?? [DEFAULT_AGENT, DEFAULT_AGENT]).map(resolveAgent);
  if (agents.length === 0) throw new RangeError('at least one agent is needed');
  return {
    masters,
    masterPorts: Array.from({ length: masters }, (_, i) => options.masterPorts?.[i] ?? 0),
    host: options.host ?? '127.0.0.1',
    agents,
    allocationIntervalMs: positive('allocationIntervalMs', options.allocationIntervalMs, 1000),
    heartbeatIntervalSeconds: positive(
      'heartbeatIntervalSeconds',
      options.heartbeatIntervalSeconds,
      15,
    ),
    offerTimeoutMs:
      options.offerTimeoutMs === undefined
        ? null
        : positive('offerTimeoutMs', options.offerTimeoutMs, 0),
    statusUpdateRetryMs: positive('statusUpdateRetryMs', options.statusUpdateRetryMs, 10_000),
    statusUpdateRetryMaxMs: positive(
      'statusUpdateRetryMaxMs',
      options.statusUpdateRetryMaxMs,
      600_000,
    ),
    workDir: options.workDir ?? null,
    taskRunner: options.taskRunner ?? 'process',
    instantTaskDurationMs: options.instantTaskDurationMs ?? 10,
    killGracePeriodMs: options.killGracePeriodMs ?? 3000,
    log: options.log ?? (() => undefined),
  };
}

function resolveAgent(agent: AgentOptions): ResolvedAgentOptions {
  const resolved: ResolvedAgentOptions = {
    cpus: agent.cpus ?? DEFAULT_AGENT.cpus ?? 0,
    mem: agent.mem ?? DEFAULT_AGENT.mem ?? 0,
    disk: agent.disk ?? DEFAULT_AGENT.disk ?? 0,
    port: agent.port ?? 0,
    reservations: agent.reservations ?? [],
    attributes: agent.attributes ?? {},
  };
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const reserved = resolved.reservations.reduce((sum, r) => sum + (r[name] ?? 0), 0);
    if (reserved > resolved[name]) {
      throw new RangeError(`agent reserves ${reserved} ${name} but has only ${resolved[name]}`);
    }
  }
  return resolved;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isFinite(chosen) || chosen <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${chosen}`);
  }
  return chosen;
}
