import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskState, TaskStatus } from '../../infrastructure/wire/mesos-messages';
import { SimulatedAgent } from './agent';
import { pathOf, readBody, sendText } from './http-io';
import { agentIdOf } from './ids';
import { SimulatedMaster } from './master';
import type { FrameworkRecord } from './framework-state';
import { MasterCore } from './master-core';
import { OPERATOR_PATHS, handleOperatorRequest } from './operator-endpoint';
import { resolveOptions, type MesosSimulatorOptions, type ResolvedOptions } from './options';
import { Recorder, type RecordedCall, type RecordedEvent } from './recorder';
import { SCHEDULER_PATHS, handleSchedulerRequest } from './scheduler-endpoint';
import { InstantTaskRunner, ProcessTaskRunner } from './task-process';

export interface FrameworkSnapshot {
  id: string;
  name: string;
  roles: string[];
  capabilities: string[];
  /** A subscription stream is open. */
  connected: boolean;
  active: boolean;
  /** Known from before a master failover, not re-subscribed yet. */
  recovered: boolean;
  /** Torn down, or its failover timeout expired. */
  removed: boolean;
  suppressedRoles: string[];
  failoverTimeoutSeconds: number;
  streamId: string | null;
}

export interface TaskSnapshot {
  frameworkId: string;
  taskId: string;
  agentId: string;
  /** Latest state (the master's view; ahead of what the scheduler acknowledged). */
  state: TaskState;
  /** State of the latest update sent to the scheduler, null before the first. */
  statusUpdateState: TaskState | null;
  /** Every status the master forwarded, oldest first. */
  statuses: TaskStatus[];
  /** Updates still waiting for an acknowledgement on the agent, in-flight one first. */
  pendingUpdates: TaskStatus[];
  /** Acknowledged in a terminal state (the master keeps it among completed tasks). */
  completed: boolean;
  sandbox: string | null;
  pid: number | undefined;
  user: string | undefined;
}

export interface OfferSnapshot {
  id: string;
  frameworkId: string;
  agentId: string;
  role: string;
  resources: { name: string; reservation: string; value: number }[];
}

export interface AgentSnapshot {
  id: string;
  url: string;
  port: number;
  total: { name: string; reservation: string; value: number }[];
  used: { name: string; reservation: string; value: number }[];
  offered: { name: string; reservation: string; value: number }[];
}

export interface FailoverOptions {
  /** How long no master leads (every master answers 503) before the new leader is elected. */
  leaderlessMs?: number;
}

/**
 * A Mesos cluster in one process: masters (one leading) and agents, speaking the v1 scheduler,
 * operator and agent HTTP APIs over real loopback HTTP. See docs/mesos-simulator.md.
 */
export class MesosSimulator {
  private stopped = false;

  private constructor(
    private readonly options: ResolvedOptions,
    private readonly core: MasterCore,
    private readonly masters: SimulatedMaster[],
    private readonly agentList: SimulatedAgent[],
    private readonly recorder: Recorder,
    /** Where the agents keep their sandboxes (`<workDir>/agent-<n>/slaves/…`). */
    readonly workDir: string,
    private readonly ownsWorkDir: boolean,
  ) {}

  static async start(options: MesosSimulatorOptions = {}): Promise<MesosSimulator> {
    const resolved = resolveOptions(options);
    const workDir = resolved.workDir ?? mkdtempSync(join(tmpdir(), 'mesos-simulator-'));
    const recorder = new Recorder(resolved.log);
    const core = new MasterCore(resolved);
    const route = async (master: SimulatedMaster, req: IncomingMessage, res: ServerResponse) => {
      const path = pathOf(req);
      if (SCHEDULER_PATHS.has(path)) {
        return handleSchedulerRequest(core, recorder, master, req, res);
      }
      if (OPERATOR_PATHS.has(path)) return handleOperatorRequest(core, master, req, res);
      await readBody(req);
      sendText(res, 404);
    };
    const masters = resolved.masterPorts.map(
      (port, index) => new SimulatedMaster(index, resolved.host, port, route),
    );
    const runner =
      resolved.taskRunner === 'instant'
        ? new InstantTaskRunner(resolved.instantTaskDurationMs)
        : new ProcessTaskRunner();
    const first = masters[0];
    const agents = resolved.agents.map(
      (agentOptions, index) =>
        new SimulatedAgent(
          index,
          agentIdOf(first.id, first.nextAgentSequence()),
          agentOptions,
          {
            host: resolved.host,
            workDir: join(workDir, `agent-${index}`),
            runner,
            sandboxes: resolved.taskRunner === 'process',
            killGracePeriodMs: resolved.killGracePeriodMs,
            statusUpdateRetryMs: resolved.statusUpdateRetryMs,
            statusUpdateRetryMaxMs: resolved.statusUpdateRetryMaxMs,
            log: resolved.log,
          },
          core,
        ),
    );
    const simulator = new MesosSimulator(
      resolved,
      core,
      masters,
      agents,
      recorder,
      workDir,
      resolved.workDir === null,
    );
    try {
      await Promise.all([...masters.map((m) => m.listen()), ...agents.map((a) => a.listen())]);
    } catch (error) {
      await simulator.stop();
      throw error;
    }
    for (const agent of agents) core.addAgent(agent);
    core.elect(first);
    core.start();
    resolved.log(
      `masters ${masters.map((m) => m.url).join(', ')}; agents ${agents.map((a) => a.url).join(', ')}`,
    );
    return simulator;
  }

  /** Base URLs of the masters, by index (`http://127.0.0.1:<port>`). */
  get masterUrls(): string[] {
    return this.masters.map((master) => master.url);
  }

  /** Base URL of the leading master, or null while none leads. */
  get leaderUrl(): string | null {
    return this.core.leadingMaster?.url ?? null;
  }

  get leaderIndex(): number | null {
    return this.core.leadingMaster?.index ?? null;
  }

  /** Master ids, by index. */
  get masterIds(): string[] {
    return this.masters.map((master) => master.id);
  }

  /** Base URLs of the agents' v1 API, by index. */
  get agentUrls(): string[] {
    return this.agentList.map((agent) => agent.url);
  }

  /** Every request the scheduler endpoints received, in arrival order, with the answer status. */
  get calls(): readonly RecordedCall[] {
    return [...this.recorder.calls].sort((a, b) => a.seq - b.seq);
  }

  /** Every event written on a subscription stream, in order. */
  get events(): readonly RecordedEvent[] {
    return this.recorder.events;
  }

  callsOfType(type: string): RecordedCall[] {
    return this.calls.filter((call) => call.type === type);
  }

  /**
   * Master failover: the leader loses leadership (its subscription streams drop, offers vanish),
   * then master `toIndex` (default: the next one) is elected. Agents re-register and keep their
   * tasks; frameworks must subscribe again with their id.
   */
  async failover(toIndex?: number, options: FailoverOptions = {}): Promise<void> {
    const current = this.core.leadingMaster?.index ?? 0;
    const target = toIndex ?? (current + 1) % this.masters.length;
    const master = this.masters[target];
    if (master === undefined) throw new RangeError(`no master ${target}`);
    this.core.abdicate();
    if ((options.leaderlessMs ?? 0) > 0) {
      await new Promise((resolve) => setTimeout(resolve, options.leaderlessMs));
    }
    if (this.stopped) return;
    this.core.elect(master);
    this.core.allocateSoon();
  }

  /** Breaks every subscription connection of the leader, as a network failure would. */
  dropStreams(): void {
    this.core.dropStreams();
  }

  /** Rescinds the given outstanding offers, or all of them; returns the ids rescinded. */
  rescindOffers(offerIds?: readonly string[]): string[] {
    return this.core.rescindOffers(offerIds);
  }

  /** Runs an allocation cycle now instead of waiting for the interval. */
  allocateNow(): void {
    this.core.allocate();
  }

  /** Signals a task's processes, as something outside Mesos would (a crash, the OOM killer). */
  signalTask(taskId: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    return this.agentList.some((agent) => agent.signalTask(taskId, signal));
  }

  frameworks(): FrameworkSnapshot[] {
    const snapshot = (framework: FrameworkRecord, removed: boolean): FrameworkSnapshot => ({
      id: framework.id,
      name: framework.info.name,
      roles: [...framework.roles],
      capabilities: (framework.info.capabilities ?? []).map((c) => c.type),
      connected: framework.stream !== null,
      active: framework.active,
      recovered: framework.recovered,
      removed,
      suppressedRoles: [...framework.suppressedRoles],
      failoverTimeoutSeconds: framework.info.failover_timeout ?? 0,
      streamId: framework.stream?.streamId ?? null,
    });
    return [
      ...[...this.core.frameworks.values()].map((f) => snapshot(f, false)),
      ...this.core.completedFrameworks.map((f) => snapshot(f, true)),
    ];
  }

  tasks(): TaskSnapshot[] {
    const onAgents = new Map(
      this.agentList.flatMap((agent) =>
        agent.snapshots().map((s) => [`${s.frameworkId}\u0000${s.taskId}`, s] as const),
      ),
    );
    const all = [...this.core.frameworks.values(), ...this.core.completedFrameworks].flatMap(
      (framework) => [
        ...[...framework.tasks.values()].map((task) => ({ task, completed: false })),
        ...framework.completedTasks.map((task) => ({ task, completed: true })),
      ],
    );
    return all.map(({ task, completed }) => {
      const agentView = onAgents.get(`${task.frameworkId}\u0000${task.info.task_id.value}`);
      return {
        frameworkId: task.frameworkId,
        taskId: task.info.task_id.value,
        agentId: task.agentId,
        state: task.state,
        statusUpdateState: task.statusUpdateState,
        statuses: [...task.statuses],
        pendingUpdates: agentView?.pendingUpdates ?? [],
        completed,
        sandbox: agentView?.sandbox ?? null,
        pid: agentView?.pid,
        user: task.user,
      };
    });
  }

  task(taskId: string): TaskSnapshot | undefined {
    return this.tasks().find((task) => task.taskId === taskId);
  }

  offers(): OfferSnapshot[] {
    return [...this.core.offers.values()].map((offer) => ({
      id: offer.id,
      frameworkId: offer.frameworkId,
      agentId: offer.agentId,
      role: offer.role,
      resources: offer.resources.entries(),
    }));
  }

  agents(): AgentSnapshot[] {
    return this.agentList.map((agent) => ({
      id: agent.id,
      url: agent.url,
      port: agent.port,
      total: agent.total.entries(),
      used: this.core.usedOn(agent.id).entries(),
      offered: this.core.offeredOn(agent.id).entries(),
    }));
  }

  /** Polls `probe` until it returns a value other than undefined/false/null. */
  async waitFor<T>(
    probe: () => T | undefined | null | false,
    timeoutMs = 10_000,
    description = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() > deadline) {
        throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Kills every task process and closes every server, socket and timer. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.core.stop();
    await Promise.all(this.agentList.map((agent) => agent.stop()));
    await Promise.all(this.masters.map((master) => master.close()));
    if (this.ownsWorkDir) rmSync(this.workDir, { recursive: true, force: true });
    this.options.log('stopped');
  }
}
