import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { SCHEDULER_STATE, type SchedulerStateRepository } from '@rhythm/jobs';
import { RhythmRunner, SECRET_STORE, resolveJobSecrets, type SecretStore } from '@rhythm/runners';
import {
  LEADER_ELECTION,
  TERMINAL_TASK_STATES,
  type LeaderElection,
  type LeadershipTerm,
  type RunLaunch,
  type Runner,
  type TaskLog,
  type TaskLogStream,
  type TaskStatusUpdate,
} from '@rhythm/scheduling';
import { MesosOperatorClient, sandboxPath } from '../operator/mesos-operator-client';
import { FRAMEWORK_REMOVED_MESSAGE } from '../scheduler/mesos-scheduler-handler';
import { MesosSchedulerClient } from '../scheduler/mesos-scheduler-client';
import type { Offer, Resource, TaskInfo, TaskStatus } from '../wire/mesos-messages';
import { MESOS_RUNNER_OPTIONS, type MesosRunnerOptions } from './mesos-runner.options';
import { takeResources } from './resource-fit';
import { buildTaskInfo } from './task-info.builder';
import { rhythmStateOf, toTaskStatusUpdate } from './task-status.mapping';

/** The store key of the framework ID: kept across terms, restarts and failovers. */
export const FRAMEWORK_ID_STATE = 'mesos.frameworkId';
const DEFAULT_LOG_BYTES = 64 * 1024;
/**
 * ACKNOWLEDGE calls in flight at once; later ones wait their turn, so a burst of updates does not
 * open a connection per update.
 */
export const MAX_ACKNOWLEDGEMENTS_IN_FLIGHT = 8;

/** A run waiting for an offer that fits it. */
interface PendingRun {
  readonly run: RunLaunch;
  readonly secrets: Readonly<Record<string, string>>;
}

/** A task Mesos has (or had) for us, as far as this term knows. */
interface KnownTask {
  agentId: string | null;
}

/** A step of the offer calls; resolves false when the sequence must stop (see `revive`). */
type OfferCall = () => Promise<boolean>;

/** Runs calls in order with at most `limit` of them at once; whoever pushes does not wait. */
class CallQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;

  constructor(private readonly limit: number) {}

  /** `call` handles its own failure: the queue ignores how it settles. */
  push(call: () => Promise<void>): void {
    this.waiting.push(call);
    this.startNext();
  }

  /** Forgets the calls not started yet. */
  clear(): void {
    this.waiting.length = 0;
  }

  private startNext(): void {
    while (this.running < this.limit) {
      const call = this.waiting.shift();
      if (!call) return;
      this.running++;
      const settled = () => {
        this.running--;
        this.startNext();
      };
      void call().then(settled, settled);
    }
  }
}

/**
 * Runs command jobs as Mesos tasks through the v1 Scheduler HTTP API, while this instance leads:
 * each term subscribes (with the stored framework ID, always), reconciles the tasks the store
 * believes active, and launches runs on offers that fit them. Offers that fit nothing are declined
 * with a refuse filter, offers are suppressed while nothing waits and revived the moment a run
 * does. Every update with a uuid is acknowledged once handed to the scheduler, without holding up
 * the event stream; an update lost with a store outage or a crash comes back through
 * reconciliation.
 */
@RhythmRunner({ kind: 'mesos' })
@Injectable()
export class MesosRunner implements Runner, OnModuleInit, OnApplicationShutdown {
  readonly kind = 'mesos';
  private readonly logger = new Logger('MesosRunner');
  private readonly client: MesosSchedulerClient;
  private readonly operator: MesosOperatorClient;
  private listener: (update: TaskStatusUpdate) => void = () => undefined;
  private term: LeadershipTerm | null = null;
  private subscription: Promise<void> | null = null;
  private readonly pending = new Map<string, PendingRun>();
  private readonly known = new Map<string, KnownTask>();
  /** Kills asked for while no subscription was up; sent on the next SUBSCRIBED. */
  private readonly deferredKills = new Set<string>();
  /** SUPPRESS sent (set before it is answered), and no REVIVE sent since. */
  private suppressed = false;
  /**
   * Offers were declined with the idle filter since the last REVIVE: those agents are withheld.
   * Kept across subscriptions, as the master may keep filters: a spare REVIVE costs little.
   */
  private idleFiltered = false;
  /** Nothing waited after the latest offers or SUBSCRIBED: SUPPRESS unless a run comes first. */
  private suppressWanted = false;
  /** Offers left over while nothing waited, declined with the idle filter right before SUPPRESS. */
  private idleOffers: string[] = [];
  /** The REVIVE, SUPPRESS or idle DECLINE in flight, and the calls that follow it. */
  private offerCalls: Promise<void> | null = null;
  private readonly acknowledgements = new CallQueue(MAX_ACKNOWLEDGEMENTS_IN_FLIGHT);
  /** Set once the scheduler told this term which tasks the store believes active. */
  private reconciledThisTerm = false;
  private implicitTimer: NodeJS.Timeout | null = null;

  constructor(
    @Inject(MESOS_RUNNER_OPTIONS) private readonly options: MesosRunnerOptions,
    @Inject(LEADER_ELECTION) private readonly election: LeaderElection,
    @Inject(SCHEDULER_STATE) private readonly state: SchedulerStateRepository,
    @Inject(SECRET_STORE) private readonly secrets: SecretStore,
  ) {
    const transport = {
      masters: options.masters,
      credentials: options.credentials,
      ca: options.ca,
    };
    this.client = new MesosSchedulerClient({
      ...transport,
      framework: options.framework,
      frameworkId: () => this.state.get(FRAMEWORK_ID_STATE),
      reconnect: options.reconnect,
      heartbeatTimeoutFactor: options.heartbeatTimeoutFactor,
      logger: this.logger,
    });
    this.operator = new MesosOperatorClient(transport);
  }

  /** Before any bootstrap hook: the scheduler may win a term as soon as it bootstraps. */
  onModuleInit(): void {
    this.election.onTerm((term) => this.lead(term));
    const current = this.election.currentTerm();
    if (current) this.lead(current);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopImplicitReconciliation();
    await this.subscription;
    this.operator.close();
  }

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  /** Accepted once queued for an offer; a secret that cannot be read fails the launch at once. */
  async launch(run: RunLaunch): Promise<void> {
    if (!this.term || this.term.signal.aborted) {
      throw new Error('this instance does not lead; the run is not launched');
    }
    const secrets = await resolveJobSecrets(this.secrets, run.jobId, run.spec.secrets);
    this.pending.set(run.taskId, { run, secrets });
    await this.syncOffers();
  }

  async kill(taskId: string): Promise<void> {
    if (this.pending.delete(taskId)) {
      this.report({
        taskId,
        state: 'Killed',
        at: new Date(),
        message: 'Killed before an offer fit it',
        reason: 'REASON_TASK_KILLED_DURING_LAUNCH',
        source: 'SCHEDULER',
      });
      return;
    }
    if (!this.client.isSubscribed()) {
      this.deferredKills.add(taskId);
      return;
    }
    await this.client.kill(taskId, this.known.get(taskId)?.agentId ?? undefined);
  }

  /**
   * Explicit reconciliation of the tasks the store believes active. Runs still waiting for an
   * offer are not Mesos's to answer for; the rest are asked about now, or right after the next
   * SUBSCRIBED, and before any offer of that subscription is used.
   */
  async reconcile(taskIds: readonly string[]): Promise<void> {
    const ask = taskIds.filter((taskId) => !this.pending.has(taskId));
    for (const taskId of ask) {
      if (!this.known.has(taskId)) this.known.set(taskId, { agentId: null });
    }
    this.reconciledThisTerm = true;
    if (ask.length > 0 && this.client.isSubscribed()) await this.sendReconcile(ask);
  }

  async readLogs(
    taskId: string,
    stream: TaskLogStream,
    range: { readonly offset?: number; readonly length?: number } = {},
  ): Promise<TaskLog | null> {
    const located = await this.locate(taskId);
    if (!located) return null;
    const path = sandboxPath(located.frameworkId, located.executorId, stream);
    const length = range.length ?? DEFAULT_LOG_BYTES;
    let offset = range.offset;
    if (offset === undefined) {
      // Without an offset the tail is wanted: one zero-length read gives the file's size.
      const head = await this.operator.readFile(located.agentUrl, path, 0, 0);
      if (!head) return null;
      offset = Math.max(0, head.size - length);
    }
    const chunk = await this.operator.readFile(located.agentUrl, path, offset, length);
    if (!chunk) return null;
    return { offset, data: chunk.data.toString('utf8'), size: chunk.size };
  }

  /** The cluster as the leading master reports it, for GET /api/v1/cluster. */
  get operatorClient(): MesosOperatorClient {
    return this.operator;
  }

  get frameworkId(): string | null {
    return this.client.frameworkId;
  }

  isSubscribed(): boolean {
    return this.client.isSubscribed();
  }

  private lead(term: LeadershipTerm): void {
    if (this.term === term) return;
    this.term = term;
    // Runs queued in an earlier term may have been closed and relaunched by another leader since.
    this.pending.clear();
    this.known.clear();
    this.deferredKills.clear();
    this.reconciledThisTerm = false;
    this.suppressed = false;
    this.suppressWanted = false;
    this.idleOffers = [];
    this.acknowledgements.clear();
    const previous = this.subscription ?? Promise.resolve();
    this.subscription = previous.then(() => this.subscribe(term));
  }

  private async subscribe(term: LeadershipTerm): Promise<void> {
    if (term.signal.aborted) return;
    this.logger.log({
      msg: 'subscribing to Mesos',
      epoch: term.epoch,
      masters: this.options.masters,
    });
    this.startImplicitReconciliation(term);
    await this.client.start(
      {
        subscribed: async (info) => {
          this.logger.log({
            msg: 'subscribed',
            frameworkId: info.frameworkId,
            master: info.masterUrl,
          });
          if ((await this.state.get(FRAMEWORK_ID_STATE)) !== info.frameworkId) {
            await this.state.set(FRAMEWORK_ID_STATE, info.frameworkId, { epoch: term.epoch });
          }
          this.suppressed = false;
          const active = [...this.known.keys()];
          if (active.length > 0) await this.sendReconcile(active);
          for (const taskId of this.deferredKills) {
            await this.client.kill(taskId, this.known.get(taskId)?.agentId ?? undefined);
          }
          this.deferredKills.clear();
          if (this.pending.size === 0) await this.goIdle([]);
          else await this.syncOffers();
        },
        offers: (offers) => this.useOffers(offers, term),
        rescind: (offerId) => {
          // Offers are answered as they arrive, so a rescinded offer holds nothing of ours.
          this.logger.debug?.({ msg: 'offer rescinded', offerId });
        },
        update: (status) => this.handleStatus(status),
        failure: (failure) => this.logger.warn({ msg: 'Mesos reports a failure', failure }),
        error: async (message) => {
          this.logger.warn({ msg: 'Mesos sent an error', message });
          if (message === FRAMEWORK_REMOVED_MESSAGE) {
            // Its tasks are gone with it: reconciliation after the new registration closes them.
            await this.state.set(FRAMEWORK_ID_STATE, null, { epoch: term.epoch });
          }
        },
        disconnected: (reason) => {
          this.logger.warn({ msg: 'Mesos subscription ended', reason });
          // Offers die with the subscription, and agents re-send the updates not acknowledged.
          this.idleOffers = [];
          this.acknowledgements.clear();
        },
      },
      term.signal,
    );
    this.stopImplicitReconciliation();
  }

  private async useOffers(offers: Offer[], term: LeadershipTerm): Promise<void> {
    const unused: string[] = [];
    for (const offer of offers) {
      if (term.signal.aborted) return;
      let remaining: Resource[] = offer.resources ?? [];
      const tasks: TaskInfo[] = [];
      const launched: PendingRun[] = [];
      for (const pending of this.pending.values()) {
        const { spec } = pending.run;
        const fit = takeResources(
          remaining,
          { cpus: spec.cpus, mem: spec.mem, disk: spec.disk },
          this.options.framework.roles ?? ['*'],
        );
        if (!fit) continue;
        remaining = fit.left;
        tasks.push(buildTaskInfo(pending.run, pending.secrets, offer.agent_id.value, fit.taken));
        launched.push(pending);
      }
      if (tasks.length === 0) {
        unused.push(offer.id.value);
        continue;
      }
      for (const { run } of launched) {
        this.pending.delete(run.taskId);
        this.known.set(run.taskId, { agentId: offer.agent_id.value });
      }
      try {
        await this.client.launch([offer.id.value], tasks, {
          refuse_seconds: this.options.declineRefuseSeconds,
        });
      } catch (error) {
        // Back in the queue for the next offer: a failed ACCEPT never strands a run in Staging.
        this.logger.warn({
          msg: 'ACCEPT failed; the runs wait for another offer',
          error: String(error),
        });
        for (const pending of launched) {
          this.known.delete(pending.run.taskId);
          this.pending.set(pending.run.taskId, pending);
        }
        continue;
      }
      for (const { run } of launched) {
        this.report({
          taskId: run.taskId,
          state: 'Staging',
          at: new Date(),
          agentId: offer.agent_id.value,
        });
      }
    }
    // Declined only now: runs may have arrived while the ACCEPTs were answered, and the long
    // filter is for a runner that is about to suppress.
    if (this.pending.size > 0) await this.decline(unused, this.options.declineRefuseSeconds);
    else await this.goIdle(unused);
  }

  private async decline(offerIds: readonly string[], refuseSeconds: number): Promise<void> {
    if (offerIds.length === 0) return;
    await this.client
      .decline([...offerIds], { refuse_seconds: refuseSeconds })
      .catch((error: unknown) => this.logger.warn({ msg: 'DECLINE failed', error: String(error) }));
  }

  private async handleStatus(status: TaskStatus): Promise<void> {
    const taskId = status.task_id.value;
    const state = rhythmStateOf(status.state);
    const known = this.known.get(taskId);
    if (TERMINAL_TASK_STATES.has(state)) this.known.delete(taskId);
    else if (known) known.agentId = status.agent_id?.value ?? known.agentId;
    this.report(
      toTaskStatusUpdate(status, {
        frameworkId: this.client.frameworkId ?? '',
        masterUrl: this.client.masterUrl ?? this.options.masters[0] ?? '',
        now: new Date(),
      }),
    );
    if (!known && !TERMINAL_TASK_STATES.has(state) && this.reconciledThisTerm) {
      // Running, but the store believes no such run active (its job was deleted, or it is a
      // leftover of a launch that was given up): nothing may run that the store does not know.
      this.logger.warn({ msg: 'killing a task the store does not know', taskId });
      await this.client
        .kill(taskId, status.agent_id?.value)
        .catch((error: unknown) => this.logger.warn({ msg: 'KILL failed', error: String(error) }));
    }
    if (status.uuid !== undefined && status.agent_id) {
      this.acknowledge(status.agent_id.value, taskId, status.uuid);
    }
  }

  /**
   * Queued, not awaited: the update is handed over already (in stream order, before the next event
   * is read), and waiting for the master's answer would hold every later event, OFFERS included,
   * for a round trip. An ACKNOWLEDGE that fails or is dropped only makes the agent send it again.
   */
  private acknowledge(agentId: string, taskId: string, uuid: string): void {
    this.acknowledgements.push(() =>
      this.client.acknowledge(agentId, taskId, uuid).catch((error: unknown) =>
        // Unacknowledged updates are re-sent by the agent; nothing is lost.
        this.logger.warn({ msg: 'ACKNOWLEDGE failed', taskId, error: String(error) }),
      ),
    );
  }

  private report(update: TaskStatusUpdate): void {
    try {
      this.listener(update);
    } catch (error) {
      this.logger.error({ msg: 'status listener failed', error: String(error) });
    }
  }

  private async sendReconcile(taskIds: readonly string[]): Promise<void> {
    await this.client.reconcile(
      taskIds.map((taskId) => {
        const agentId = this.known.get(taskId)?.agentId;
        return { task_id: { value: taskId }, ...(agentId ? { agent_id: { value: agentId } } : {}) };
      }),
    );
  }

  /** Nothing waits: offers are suppressed, after the left-over ones are declined for long. */
  private goIdle(leftOver: readonly string[]): Promise<void> {
    this.idleOffers.push(...leftOver);
    this.suppressWanted = true;
    return this.syncOffers();
  }

  /**
   * Brings the master's offer state in line with the queue, one call at a time: REVIVE when runs
   * wait and offers may be withheld, SUPPRESS when nothing waits. Whoever comes while a call is in
   * flight shares it, and the state is checked again after each answer: a run queued during a
   * SUPPRESS or an idle DECLINE gets its REVIVE right after, never before (a REVIVE lifts only the
   * filters the master already has).
   */
  private syncOffers(): Promise<void> {
    if (!this.offerCalls) {
      const first = this.nextOfferCall();
      if (!first) return Promise.resolve();
      this.offerCalls = this.sendOfferCalls(first);
    }
    return this.offerCalls;
  }

  private async sendOfferCalls(first: OfferCall): Promise<void> {
    try {
      for (let call: OfferCall | null = first; call; call = this.nextOfferCall()) {
        if (!(await call())) return;
      }
    } finally {
      this.offerCalls = null;
    }
  }

  /** The call the master needs now, or null when its offer state fits the queue. */
  private nextOfferCall(): OfferCall | null {
    if (!this.client.isSubscribed()) return null;
    if (this.pending.size > 0) {
      this.suppressWanted = false;
      const leftOver = this.idleOffers.splice(0);
      // Runs came before these were declined: a short filter, so their agents come back soon.
      if (leftOver.length > 0) {
        return () => this.decline(leftOver, this.options.declineRefuseSeconds).then(() => true);
      }
      return this.suppressed || this.idleFiltered ? () => this.revive() : null;
    }
    if (!this.suppressWanted) return null;
    this.suppressWanted = false;
    return () => this.suppress();
  }

  private async suppress(): Promise<boolean> {
    const leftOver = this.idleOffers.splice(0);
    if (leftOver.length > 0) {
      this.idleFiltered = true;
      await this.decline(leftOver, this.options.idleRefuseSeconds);
    }
    // A run that came during the DECLINE is served by the REVIVE that follows, not suppressed.
    if (this.suppressed || this.pending.size > 0) return true;
    // Set before the answer: a run queued meanwhile must REVIVE once it comes.
    this.suppressed = true;
    try {
      await this.client.suppress();
      return true;
    } catch (error) {
      // Offers keep coming and are declined; the sequence goes on, for a run queued meanwhile.
      this.suppressed = false;
      this.logger.warn({ msg: 'SUPPRESS failed', error: String(error) });
      return true;
    }
  }

  private async revive(): Promise<boolean> {
    const { suppressed, idleFiltered } = this;
    // Cleared before the answer: launches made while it is in flight need no REVIVE of their own.
    this.suppressed = false;
    this.idleFiltered = false;
    try {
      await this.client.revive();
      return true;
    } catch (error) {
      // Offers may still be withheld: the next launch or SUBSCRIBED tries again (trying again at
      // once, as the sequence would, could loop while the master refuses).
      this.suppressed ||= suppressed;
      this.idleFiltered ||= idleFiltered;
      this.logger.warn({ msg: 'REVIVE failed', error: String(error) });
      return false;
    }
  }

  /** Implicit reconciliation: Mesos reports every task it has for us, known to us or not. */
  private startImplicitReconciliation(term: LeadershipTerm): void {
    this.stopImplicitReconciliation();
    this.implicitTimer = setInterval(() => {
      if (term.signal.aborted || !this.client.isSubscribed()) return;
      this.client
        .reconcile([])
        .catch((error: unknown) =>
          this.logger.warn({ msg: 'implicit reconciliation failed', error: String(error) }),
        );
    }, this.options.implicitReconcileIntervalMs);
    this.implicitTimer.unref();
  }

  private stopImplicitReconciliation(): void {
    if (this.implicitTimer) clearInterval(this.implicitTimer);
    this.implicitTimer = null;
  }

  /** Where a task's sandbox is: its agent's URL, the framework and the executor (= task) ID. */
  private async locate(
    taskId: string,
  ): Promise<{ agentUrl: string; frameworkId: string; executorId: string } | null> {
    const tasks = await this.operator.getTasks();
    const all = [
      ...(tasks.tasks ?? []),
      ...(tasks.completed_tasks ?? []),
      ...(tasks.unreachable_tasks ?? []),
    ];
    const task = all.find((candidate) => candidate.task_id.value === taskId);
    if (!task) return null;
    const agents = (await this.operator.getAgents()).agents ?? [];
    const agent = agents.find(
      (candidate) => candidate.agent_info.id?.value === task.agent_id.value,
    );
    if (!agent) return null;
    return {
      agentUrl: this.operator.agentUrl(agent),
      frameworkId: task.framework_id.value,
      executorId: task.executor_id?.value ?? taskId,
    };
  }
}
