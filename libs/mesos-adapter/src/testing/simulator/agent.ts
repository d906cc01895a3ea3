import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  AgentInfo,
  FrameworkInfo,
  TaskInfo,
  TaskState,
  TaskStatus,
  TaskStatusReason,
  TaskStatusSource,
} from '../../infrastructure/wire/mesos-messages';
import { handleAgentRequest } from './agent-endpoint';
import { newContainerId, newStatusUuid } from './ids';
import type { ResolvedAgentOptions } from './options';
import { ScalarResources, UNRESERVED, type ScalarEntry } from './resources';
import { SandboxFiles } from './sandbox';
import { StatusUpdateManager, isTerminalState, type PendingUpdate } from './status-updates';
import { describeExit, type RunningTask, type TaskExit, type TaskRunner } from './task-process';

/** How an agent reaches the leading master (in-process; a real agent speaks libprocess). */
export interface AgentMasterLink {
  /** Delivers one status update with the task's latest state; dropped when no master leads. */
  statusUpdate(agentId: string, update: PendingUpdate, latestState: TaskState): void;
}

export interface AgentTaskSnapshot {
  frameworkId: string;
  taskId: string;
  executorId: string;
  containerId: string;
  /** Latest state on the agent (may be ahead of what the scheduler has acknowledged). */
  state: TaskState;
  sandbox: string | null;
  pid: number | undefined;
  /** Status updates waiting for an acknowledgement, oldest (in flight) first. */
  pendingUpdates: TaskStatus[];
  command: TaskInfo['command'];
  container: TaskInfo['container'];
  user: string | undefined;
}

interface AgentTask {
  frameworkId: string;
  framework: FrameworkInfo;
  info: TaskInfo;
  executorId: string;
  containerId: string;
  sandbox: string | null;
  state: TaskState;
  running: RunningTask | null;
  pid: number | undefined;
  launched: boolean;
  killRequested: boolean;
  /** The framework was removed: kill quietly, send nothing. */
  orphaned: boolean;
}

export interface AgentSettings {
  host: string;
  workDir: string;
  runner: TaskRunner;
  /** Make sandbox directories (the instant runner has no output to keep). */
  sandboxes: boolean;
  killGracePeriodMs: number;
  statusUpdateRetryMs: number;
  statusUpdateRetryMaxMs: number;
  log: (line: string) => void;
}

/** Completed tasks an agent remembers (its `--max_completed_executors_per_framework` spirit). */
const MAX_COMPLETED_TASKS = 1000;

/** The agent capabilities of a default 1.11 agent. */
const AGENT_CAPABILITIES = [
  'MULTI_ROLE',
  'HIERARCHICAL_ROLE',
  'RESERVATION_REFINEMENT',
  'RESIZE_VOLUME',
  'AGENT_OPERATION_FEEDBACK',
  'AGENT_DRAINING',
  'TASK_RESOURCE_LIMITS',
] as const;

export class SimulatedAgent {
  readonly total: ScalarResources;
  readonly registeredAt = Date.now();
  reregisteredAt: number | null = null;
  private readonly server: Server;
  private readonly files: SandboxFiles;
  private readonly updates: StatusUpdateManager;
  private readonly tasks = new Map<string, AgentTask>();
  /** Tasks done and acknowledged, newest last; kept so their sandboxes stay findable. */
  private readonly completed: AgentTask[] = [];
  private boundPort = 0;

  constructor(
    readonly index: number,
    readonly id: string,
    private readonly options: ResolvedAgentOptions,
    private readonly settings: AgentSettings,
    private readonly link: AgentMasterLink,
  ) {
    this.total = totalResources(options);
    this.files = new SandboxFiles(settings.workDir, id);
    this.updates = new StatusUpdateManager(
      (update) => this.link.statusUpdate(this.id, update, this.latestState(update)),
      settings.statusUpdateRetryMs,
      settings.statusUpdateRetryMaxMs,
    );
    this.server = createServer((req, res) => {
      handleAgentRequest(this, req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.settings.host, () => resolve());
    });
    this.boundPort = (this.server.address() as AddressInfo).port;
  }

  get host(): string {
    return this.settings.host;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  /** libprocess pid of the agent process, as the master reports it. */
  get pid(): string {
    return `slave(1)@${this.host}:${this.port}`;
  }

  get capabilities(): readonly string[] {
    return AGENT_CAPABILITIES;
  }

  get attributes(): Record<string, string> {
    return this.options.attributes;
  }

  info(): AgentInfo {
    const info: AgentInfo = {
      hostname: this.host,
      port: this.port,
      resources: this.total.toProto({ refinement: false }),
    };
    const attributes = Object.entries(this.options.attributes);
    if (attributes.length > 0) {
      info.attributes = attributes.map(([name, value]) => ({
        name,
        type: 'TEXT',
        text: { value },
      }));
    }
    info.id = { value: this.id };
    return info;
  }

  /** RunTaskMessage from the master. Launching happens on the next tick, as a message would. */
  runTask(framework: FrameworkInfo, info: TaskInfo): void {
    const frameworkId = framework.id?.value ?? '';
    const task: AgentTask = {
      frameworkId,
      framework,
      info,
      // A command task's executor carries the task's id.
      executorId: info.executor?.executor_id.value ?? info.task_id.value,
      containerId: newContainerId(),
      sandbox: null,
      state: 'TASK_STAGING',
      running: null,
      pid: undefined,
      launched: false,
      killRequested: false,
      orphaned: false,
    };
    this.tasks.set(keyOf(frameworkId, info.task_id.value), task);
    setImmediate(() => this.launch(task));
  }

  killTask(frameworkId: string, taskId: string, gracePeriodMs?: number): void {
    const task = this.tasks.get(keyOf(frameworkId, taskId));
    if (task === undefined || isTerminalState(task.state) || task.killRequested) return;
    task.killRequested = true;
    if (!task.launched || task.running === null) return; // `launch` sends TASK_KILLED.
    if (hasCapability(task.framework, 'TASK_KILLING_STATE')) {
      this.sendUpdate(task, 'TASK_KILLING', { source: 'SOURCE_EXECUTOR' });
    }
    task.running.kill(gracePeriodMs ?? this.settings.killGracePeriodMs);
  }

  /** Shuts an executor down; a command executor takes its task with it. */
  shutdownExecutor(frameworkId: string, executorId: string): void {
    for (const task of this.tasks.values()) {
      if (task.frameworkId === frameworkId && task.executorId === executorId) {
        this.killTask(frameworkId, task.info.task_id.value);
      }
    }
  }

  /** The framework was removed: its tasks are killed and nothing more is reported for them. */
  shutdownFramework(frameworkId: string): void {
    this.updates.dropFramework(frameworkId);
    for (const [key, task] of this.tasks) {
      if (task.frameworkId !== frameworkId) continue;
      task.orphaned = true;
      task.killRequested = true;
      if (task.running !== null) task.running.kill(this.settings.killGracePeriodMs);
      else if (task.launched) this.tasks.delete(key);
    }
  }

  acknowledge(frameworkId: string, taskId: string, uuid: string): void {
    const result = this.updates.acknowledge(frameworkId, taskId, uuid);
    if (!result.matched) {
      this.settings.log(`[agent ${this.index}] ignored acknowledgement ${uuid} for task ${taskId}`);
      return;
    }
    if (!result.terminal) return;
    const key = keyOf(frameworkId, taskId);
    const task = this.tasks.get(key);
    this.tasks.delete(key);
    if (task !== undefined) {
      this.completed.push(task);
      this.completed.splice(0, this.completed.length - MAX_COMPLETED_TASKS);
    }
  }

  /** Re-sends awaited status updates now (framework re-subscribed, or a new master leads). */
  resume(frameworkId?: string): void {
    this.updates.resume(frameworkId);
  }

  /** Sends a signal to a task's processes, as something outside Mesos would. */
  signalTask(taskId: string, signal: NodeJS.Signals): boolean {
    for (const task of this.tasks.values()) {
      if (task.info.task_id.value === taskId && task.running !== null) {
        task.running.signal(signal);
        return true;
      }
    }
    return false;
  }

  readFile(path: string, offset: number, length: number | undefined) {
    return this.files.read(path, offset, length);
  }

  snapshots(): AgentTaskSnapshot[] {
    return [...this.completed, ...this.tasks.values()].map((task) => ({
      frameworkId: task.frameworkId,
      taskId: task.info.task_id.value,
      executorId: task.executorId,
      containerId: task.containerId,
      state: task.state,
      sandbox: task.sandbox,
      pid: task.pid,
      pendingUpdates: this.updates
        .pending(task.frameworkId, task.info.task_id.value)
        .map((update) => update.status),
      command: task.info.command,
      container: task.info.container,
      user: task.info.command?.user ?? task.framework.user,
    }));
  }

  /** Kills every task process, waits for them, and closes the agent API server. */
  async stop(): Promise<void> {
    this.updates.stop();
    const exits: Promise<void>[] = [];
    for (const task of this.tasks.values()) {
      task.orphaned = true;
      const running = task.running;
      if (running !== null) {
        // Taken first: an instant task exits (and forgets `running`) inside `signal`.
        exits.push(running.exited);
        running.signal('SIGKILL');
      }
    }
    await Promise.all(exits);
    this.tasks.clear();
    this.completed.length = 0;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private launch(task: AgentTask): void {
    if (task.orphaned) {
      this.tasks.delete(keyOf(task.frameworkId, task.info.task_id.value));
      return;
    }
    task.launched = true;
    if (task.killRequested) {
      this.sendUpdate(task, 'TASK_KILLED', {
        source: 'SOURCE_AGENT',
        reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
        message: 'Task killed before delivery to the executor',
      });
      return;
    }
    const command = task.info.command;
    if (task.info.executor !== undefined || command === undefined) {
      this.sendUpdate(task, 'TASK_FAILED', {
        source: 'SOURCE_AGENT',
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        message: 'Custom executors are not supported by the Mesos simulator',
      });
      return;
    }
    this.settings.log(
      `[agent ${this.index}] launching task ${task.info.task_id.value} of framework ${task.frameworkId}`,
    );
    try {
      if (this.settings.sandboxes) {
        task.sandbox = this.files.create(task.frameworkId, task.executorId, task.containerId);
      }
      this.sendUpdate(task, 'TASK_STARTING', { source: 'SOURCE_EXECUTOR' });
      task.running = this.settings.runner.start(
        { command, sandbox: task.sandbox, env: this.environment(task) },
        {
          onStarted: (pid) => {
            task.pid = pid;
            if (!task.killRequested) {
              this.sendUpdate(task, 'TASK_RUNNING', { source: 'SOURCE_EXECUTOR' });
            }
          },
          onExit: (exit) => this.onExit(task, exit),
        },
      );
    } catch (error) {
      // The sandbox or the output files could not be made: the container never started.
      this.sendUpdate(task, 'TASK_FAILED', {
        source: 'SOURCE_AGENT',
        reason: 'REASON_CONTAINER_LAUNCH_FAILED',
        message: `Failed to launch container: ${(error as Error).message}`,
      });
    }
  }

  private onExit(task: AgentTask, exit: TaskExit): void {
    task.running = null;
    const key = keyOf(task.frameworkId, task.info.task_id.value);
    if (task.orphaned) {
      this.tasks.delete(key);
      return;
    }
    const message = describeExit(exit);
    this.settings.log(`[agent ${this.index}] task ${task.info.task_id.value}: ${message}`);
    if (task.killRequested) {
      this.sendUpdate(task, 'TASK_KILLED', { source: 'SOURCE_EXECUTOR', message });
    } else if (exit.code === 0 && exit.signal === null) {
      this.sendUpdate(task, 'TASK_FINISHED', { source: 'SOURCE_EXECUTOR', message });
    } else {
      this.sendUpdate(task, 'TASK_FAILED', {
        source: 'SOURCE_EXECUTOR',
        reason: 'REASON_COMMAND_EXECUTOR_FAILED',
        message,
      });
    }
  }

  /** Builds a status as the command executor and agent would, and queues it for the master. */
  private sendUpdate(
    task: AgentTask,
    state: TaskState,
    details: { source: TaskStatusSource; reason?: TaskStatusReason; message?: string },
  ): void {
    task.state = state;
    if (task.orphaned) return;
    // Fields in `.proto` declaration order, as the master's JSON writer emits them.
    const status: TaskStatus = { task_id: task.info.task_id, state };
    if (details.message !== undefined) status.message = details.message;
    status.source = details.source;
    if (details.reason !== undefined) status.reason = details.reason;
    status.agent_id = { value: this.id };
    status.executor_id = { value: task.executorId };
    status.timestamp = Date.now() / 1000;
    status.uuid = newStatusUuid().toString('base64');
    status.container_status = { container_id: { value: task.containerId } };
    if (task.pid !== undefined) status.container_status.executor_pid = task.pid;
    this.updates.enqueue({ frameworkId: task.frameworkId, status });
  }

  private latestState(update: PendingUpdate): TaskState {
    const task = this.tasks.get(keyOf(update.frameworkId, update.status.task_id.value));
    return task?.state ?? update.status.state;
  }

  /** The task's environment: the agent's own, the executor's MESOS_* variables, then the task's. */
  private environment(task: AgentTask): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined) env[name] = value;
    }
    if (task.sandbox !== null) {
      env['MESOS_SANDBOX'] = task.sandbox;
      env['MESOS_DIRECTORY'] = task.sandbox;
    }
    env['MESOS_FRAMEWORK_ID'] = task.frameworkId;
    env['MESOS_EXECUTOR_ID'] = task.executorId;
    env['MESOS_TASK_ID'] = task.info.task_id.value;
    env['MESOS_AGENT_ENDPOINT'] = `${this.host}:${this.port}`;
    for (const variable of task.info.command?.environment?.variables ?? []) {
      if ((variable.type ?? 'VALUE') === 'VALUE' && variable.value !== undefined) {
        env[variable.name] = variable.value;
      }
    }
    return env;
  }
}

function keyOf(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}

function hasCapability(framework: FrameworkInfo, type: string): boolean {
  return (framework.capabilities ?? []).some((capability) => capability.type === type);
}

/** Totals with the static reservations carved out of the unreserved amounts. */
function totalResources(options: ResolvedAgentOptions): ScalarResources {
  const entries: ScalarEntry[] = [];
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const reserved = options.reservations.reduce((sum, r) => sum + (r[name] ?? 0), 0);
    entries.push({ name, reservation: UNRESERVED, value: options[name] - reserved });
    for (const reservation of options.reservations) {
      entries.push({ name, reservation: reservation.role, value: reservation[name] ?? 0 });
    }
  }
  return ScalarResources.of(entries);
}
