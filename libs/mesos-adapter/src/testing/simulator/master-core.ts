import type {
  FrameworkInfo,
  Offer,
  ReconcileTask,
  SchedulerCall,
  SchedulerCallAccept,
  SchedulerCallSubscribe,
  SchedulerEvent,
  TaskInfo,
  TaskState,
  TaskStatus,
} from '../../infrastructure/wire/mesos-messages';
import type { AgentMasterLink, SimulatedAgent } from './agent';
import { Allocator, refuseSeconds, type AllocationCandidate } from './allocator';
import {
  hasCapability,
  newFramework,
  rolesOf,
  validateFrameworkInfo,
  type FrameworkRecord,
  type MasterTask,
  type OfferRecord,
} from './framework-state';
import { frameworkIdOf, offerIdOf } from './ids';
import type { SimulatedMaster } from './master';
import { offerJson } from './offer-json';
import type { ResolvedOptions } from './options';
import { reconciliationAnswers } from './reconciliation';
import { ScalarResources } from './resources';
import { isTerminalState, type PendingUpdate } from './status-updates';
import type { SubscriptionStream } from './subscription-stream';
import { checkTask, masterStatus } from './task-validation';

/**
 * The leading master's logic: frameworks and their subscriptions, offers, task launches, status
 * update forwarding, acknowledgements, reconciliation and failover. Frameworks, tasks and agents
 * are kept across a change of leader (as the replicated registry and re-registering agents give a
 * real new leader); offers, filters and connections are not.
 */

export interface CallAnswer {
  status: number;
  body?: string;
}

/** The master keeps this many removed frameworks and completed tasks per framework. */
const MAX_COMPLETED_FRAMEWORKS = 50;
const MAX_COMPLETED_TASKS = 1000;
/** Longest delay `setTimeout` honours; a longer failover timeout never expires here. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class MasterCore implements AgentMasterLink {
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly completedFrameworks: FrameworkRecord[] = [];
  readonly agents = new Map<string, SimulatedAgent>();
  readonly offers = new Map<string, OfferRecord>();
  private readonly allocator = new Allocator();
  private leader: SimulatedMaster | null = null;
  private allocationTimer: NodeJS.Timeout | null = null;
  private allocationSoon: NodeJS.Immediate | null = null;
  private elections = 0;
  private stopped = false;

  constructor(private readonly options: ResolvedOptions) {}

  get leadingMaster(): SimulatedMaster | null {
    return this.leader;
  }

  addAgent(agent: SimulatedAgent): void {
    this.agents.set(agent.id, agent);
  }

  start(): void {
    this.allocationTimer = setInterval(() => this.allocate(), this.options.allocationIntervalMs);
  }

  stop(): void {
    this.stopped = true;
    if (this.allocationTimer !== null) clearInterval(this.allocationTimer);
    if (this.allocationSoon !== null) clearImmediate(this.allocationSoon);
    for (const framework of this.frameworks.values()) {
      this.clearFailoverTimer(framework);
      framework.stream?.destroy();
      framework.stream = null;
    }
    for (const offer of this.offers.values()) this.clearOfferTimer(offer);
    this.offers.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Leadership

  /** A master wins the election: agents re-register, frameworks must re-subscribe. */
  elect(master: SimulatedMaster): void {
    this.leader = master;
    master.electedTime = Date.now();
    for (const agent of this.agents.values()) {
      // Agents registered with the first leader; every later leader sees them re-register.
      if (this.elections > 0) agent.reregisteredAt = Date.now();
      agent.resume();
    }
    this.elections++;
    this.log(`master ${master.index} (${master.id}) is the leader`);
  }

  /**
   * The leader goes away: its connections break and what only lived in its memory (offers,
   * filters, suppressions, failover timers) is gone. Frameworks stay, as "recovered".
   */
  abdicate(): void {
    const old = this.leader;
    this.leader = null;
    for (const framework of this.frameworks.values()) {
      this.clearFailoverTimer(framework);
      framework.stream?.destroy();
      framework.stream = null;
      framework.active = false;
      framework.recovered = true;
      framework.suppressedRoles.clear();
    }
    for (const offer of this.offers.values()) this.clearOfferTimer(offer);
    this.offers.clear();
    this.allocator.clear();
    if (old !== null) this.log(`master ${old.index} lost leadership`);
  }

  // ------------------------------------------------------------------------------------------
  // Subscription

  framework(id: string): FrameworkRecord | undefined {
    return this.frameworks.get(id);
  }

  isRemoved(id: string): boolean {
    return this.completedFrameworks.some((framework) => framework.id === id);
  }

  subscribe(stream: SubscriptionStream, subscribe: SchedulerCallSubscribe): void {
    const leader = this.requireLeader();
    const info = subscribe.framework_info;
    const requestedId = info.id?.value ?? '';
    stream.frameworkId = requestedId;
    const refusal = validateFrameworkInfo(info, subscribe.suppressed_roles ?? [], (id) =>
      this.isRemoved(id),
    );
    if (refusal !== null) {
      this.log(`refusing subscription of framework '${info.name}': ${refusal}`);
      stream.send({ type: 'ERROR', error: { message: refusal } });
      stream.end();
      return;
    }

    let framework: FrameworkRecord;
    if (requestedId === '') {
      const id = frameworkIdOf(leader.id, leader.nextFrameworkSequence());
      framework = newFramework({ ...info, id: { value: id } });
      this.frameworks.set(id, framework);
      this.log(`framework '${info.name}' subscribed as ${id}`);
    } else {
      const known = this.frameworks.get(requestedId);
      // An id this master has not seen is taken as a framework from before a failover.
      framework = known ?? newFramework(info);
      if (known === undefined) {
        framework.recovered = true;
        this.frameworks.set(requestedId, framework);
      }
      this.updateFrameworkInfo(framework, info);
      framework.reregisteredAt = Date.now();
      if (framework.stream !== null) {
        const old = framework.stream;
        framework.stream = null;
        old.send({ type: 'ERROR', error: { message: 'Framework failed over' } });
        old.end();
      }
      this.clearFailoverTimer(framework);
      this.removeOffersOf(framework);
      this.log(`framework ${requestedId} re-subscribed`);
    }

    framework.suppressedRoles = new Set(subscribe.suppressed_roles ?? []);
    stream.frameworkId = framework.id;
    framework.stream = stream;
    framework.active = true;
    framework.recovered = false;
    framework.unregisteredAt = null;
    stream.onClientClose(() => this.disconnected(framework, stream));
    stream.send({
      type: 'SUBSCRIBED',
      subscribed: {
        framework_id: { value: framework.id },
        heartbeat_interval_seconds: this.options.heartbeatIntervalSeconds,
        master_info: leader.info(),
      },
    });
    stream.startHeartbeats(this.options.heartbeatIntervalSeconds);
    // Agents learn the framework is back and re-send what it has not acknowledged.
    setImmediate(() => {
      if (framework.stream !== stream) return;
      for (const agent of this.agents.values()) agent.resume(framework.id);
    });
    this.allocateSoon();
  }

  /** A re-subscription may change most of `FrameworkInfo`; `user` and `checkpoint` are kept. */
  private updateFrameworkInfo(framework: FrameworkRecord, info: FrameworkInfo): void {
    const kept = framework.info;
    const next: FrameworkInfo = { ...info, id: { value: framework.id }, user: kept.user };
    if (kept.checkpoint !== undefined) next.checkpoint = kept.checkpoint;
    else delete next.checkpoint;
    framework.info = next;
    const roles = rolesOf(next);
    framework.roles = roles;
    for (const offer of [...this.offers.values()]) {
      if (offer.frameworkId === framework.id && !roles.includes(offer.role)) {
        this.rescindOffer(offer);
      }
    }
  }

  /** The scheduler hung up: offers go back, and the failover timeout starts. */
  private disconnected(framework: FrameworkRecord, stream: SubscriptionStream): void {
    if (framework.stream !== stream) return;
    framework.stream = null;
    framework.active = false;
    framework.unregisteredAt = Date.now();
    this.removeOffersOf(framework);
    const timeoutMs = (framework.info.failover_timeout ?? 0) * 1000;
    this.log(`framework ${framework.id} disconnected; failover timeout ${timeoutMs} ms`);
    if (timeoutMs <= MAX_TIMER_MS) {
      framework.failoverTimer = setTimeout(() => {
        framework.failoverTimer = null;
        this.log(`framework ${framework.id} failover timeout expired`);
        this.removeFramework(framework);
      }, timeoutMs);
    }
  }

  /** TEARDOWN, operator teardown or failover timeout: tasks are killed, the framework is gone. */
  removeFramework(framework: FrameworkRecord): void {
    this.clearFailoverTimer(framework);
    this.removeOffersOf(framework);
    this.allocator.clearFilters(framework.id);
    for (const agent of this.agents.values()) agent.shutdownFramework(framework.id);
    for (const task of framework.tasks.values()) {
      if (!isTerminalState(task.state)) {
        const status = masterStatus({
          taskId: task.info.task_id.value,
          state: 'TASK_KILLED',
          message: 'Framework ' + framework.id + ' removed',
          reason: 'REASON_FRAMEWORK_REMOVED',
          agentId: task.agentId,
        });
        task.state = 'TASK_KILLED';
        task.statuses.push(status);
      }
      task.released = true;
      framework.completedTasks.push(task);
    }
    framework.tasks.clear();
    framework.completedTasks.splice(0, framework.completedTasks.length - MAX_COMPLETED_TASKS);
    const stream = framework.stream;
    framework.stream = null;
    framework.active = false;
    framework.unregisteredAt = Date.now();
    stream?.end();
    this.frameworks.delete(framework.id);
    this.completedFrameworks.push(framework);
    this.completedFrameworks.splice(0, this.completedFrameworks.length - MAX_COMPLETED_FRAMEWORKS);
    this.log(`framework ${framework.id} removed`);
  }

  // ------------------------------------------------------------------------------------------
  // Calls from a subscribed scheduler

  handleCall(
    framework: FrameworkRecord,
    call: SchedulerCall,
    raw: Record<string, unknown>,
  ): CallAnswer {
    switch (call.type) {
      case 'TEARDOWN':
        this.removeFramework(framework);
        return ACCEPTED;
      case 'ACCEPT':
        this.accept(framework, call.accept ?? { offer_ids: [], operations: [] });
        return ACCEPTED;
      case 'DECLINE':
        this.decline(
          framework,
          call.decline?.offer_ids ?? [],
          refuseSeconds(call.decline?.filters),
        );
        return ACCEPTED;
      case 'REVIVE':
        this.revive(framework, call.revive?.roles ?? []);
        return ACCEPTED;
      case 'SUPPRESS':
        this.suppress(framework, call.suppress?.roles ?? []);
        return ACCEPTED;
      case 'KILL':
        if (call.kill !== undefined) this.kill(framework, call.kill);
        return ACCEPTED;
      case 'SHUTDOWN':
        this.shutdownExecutor(framework, raw['shutdown']);
        return ACCEPTED;
      case 'ACKNOWLEDGE':
        if (call.acknowledge !== undefined) {
          const { agent_id, task_id, uuid } = call.acknowledge;
          this.acknowledge(framework, agent_id.value, task_id.value, uuid);
        }
        return ACCEPTED;
      case 'RECONCILE':
        this.reconcile(framework, call.reconcile?.tasks ?? []);
        return ACCEPTED;
      case 'UPDATE_FRAMEWORK':
        return this.updateFramework(framework, raw['update_framework']);
      case 'ACCEPT_INVERSE_OFFERS':
      case 'DECLINE_INVERSE_OFFERS':
      case 'ACKNOWLEDGE_OPERATION_STATUS':
      case 'RECONCILE_OPERATIONS':
      case 'MESSAGE':
      case 'REQUEST':
        // Accepted and dropped: no inverse offers, operations with feedback or executors to
        // message exist here.
        return ACCEPTED;
      case 'SUBSCRIBE':
      case 'UNKNOWN':
        return { status: 501 };
    }
  }

  private accept(framework: FrameworkRecord, accept: SchedulerCallAccept): void {
    const offerIds = (accept.offer_ids ?? []).map((id) => id.value);
    const operations = accept.operations ?? [];
    const error = this.validateOffers(framework, offerIds);
    const offers = offerIds
      .map((id) => this.offers.get(id))
      .filter(
        (offer): offer is OfferRecord => offer !== undefined && offer.frameworkId === framework.id,
      );
    for (const offer of offers) this.removeOffer(offer);

    if (error !== null) {
      this.log(`ACCEPT of framework ${framework.id} used invalid offers: ${error}`);
      const state = hasCapability(framework.info, 'PARTITION_AWARE') ? 'TASK_DROPPED' : 'TASK_LOST';
      for (const operation of operations) {
        for (const task of tasksOf(operation)) {
          this.sendUpdate(
            framework,
            masterStatus({
              taskId: task.task_id.value,
              state,
              message: `Task launched with invalid offers: ${error}`,
              reason: 'REASON_INVALID_OFFERS',
              agentId: task.agent_id.value,
            }),
          );
        }
      }
      return;
    }

    const first = offers[0];
    const agent = this.agents.get(first.agentId);
    let remaining = offers.reduce(
      (sum, offer) => sum.plus(offer.resources),
      ScalarResources.empty(),
    );
    for (const operation of operations) {
      if (operation.type === 'LAUNCH') {
        for (const task of operation.launch?.task_infos ?? []) {
          const check = checkTask(task, {
            knownTaskIds: framework.tasks,
            agentId: first.agentId,
            offered: remaining,
            role: first.role,
          });
          if (!check.ok) {
            this.sendUpdate(
              framework,
              masterStatus({
                taskId: task.task_id.value,
                state: 'TASK_ERROR',
                message: check.error,
                reason: 'REASON_TASK_INVALID',
                agentId: task.agent_id.value,
              }),
            );
            continue;
          }
          remaining = remaining.minus(check.resources);
          this.launch(framework, task, first, check.resources, agent);
        }
      } else if (operation.type === 'LAUNCH_GROUP') {
        for (const task of tasksOf(operation)) {
          this.sendUpdate(
            framework,
            masterStatus({
              taskId: task.task_id.value,
              state: 'TASK_ERROR',
              message: 'LAUNCH_GROUP is not supported by the Mesos simulator',
              reason: 'REASON_TASK_GROUP_INVALID',
              agentId: task.agent_id.value,
            }),
          );
        }
      } else {
        this.log(`ignoring ${operation.type} operation of framework ${framework.id}`);
      }
    }
    // What the tasks left is declined, with the call's filter.
    this.allocator.refuse(
      framework.id,
      first.agentId,
      first.role,
      remaining,
      refuseSeconds(accept.filters),
      Date.now(),
    );
  }

  /** `validation::offer::validate`, in its order. */
  private validateOffers(framework: FrameworkRecord, offerIds: string[]): string | null {
    if (offerIds.length === 0) return 'No offers specified';
    const seen = new Set<string>();
    for (const id of offerIds) {
      if (seen.has(id)) return `Duplicate offer ${id} in offer list`;
      seen.add(id);
    }
    for (const id of offerIds) {
      if (!this.offers.has(id)) return `Offer ${id} is no longer valid`;
    }
    const offers = offerIds.map((id) => this.offers.get(id) as OfferRecord);
    for (const offer of offers) {
      if (offer.frameworkId !== framework.id) {
        return `Offer ${offer.id} has invalid framework ${offer.frameworkId} while framework ${framework.id} is expected`;
      }
    }
    const [first, ...others] = offers;
    for (const offer of others) {
      if (offer.role !== first.role) {
        return `Aggregated offers must be allocated to the same role. Offer ${offer.id} uses role ${offer.role} and offer ${first.id} uses role ${first.role}`;
      }
      if (offer.agentId !== first.agentId) {
        return `Aggregated offers must belong to one single agent. Offer ${offer.id} uses agent ${offer.agentId} and offer ${first.id} uses agent ${first.agentId}`;
      }
    }
    return null;
  }

  private launch(
    framework: FrameworkRecord,
    info: TaskInfo,
    offer: OfferRecord,
    resources: ScalarResources,
    agent: SimulatedAgent | undefined,
  ): void {
    const task: MasterTask = {
      info,
      frameworkId: framework.id,
      agentId: offer.agentId,
      role: offer.role,
      resources,
      state: 'TASK_STAGING',
      statusUpdateState: null,
      statusUpdateUuid: null,
      statuses: [],
      released: false,
      user: info.command?.user ?? framework.info.user,
    };
    framework.tasks.set(info.task_id.value, task);
    this.log(
      `launching task ${info.task_id.value} of framework ${framework.id} on ${offer.agentId}`,
    );
    agent?.runTask(framework.info, info);
  }

  private decline(
    framework: FrameworkRecord,
    offerIds: { value: string }[],
    seconds: number,
  ): void {
    for (const { value } of offerIds) {
      const offer = this.offers.get(value);
      if (offer === undefined || offer.frameworkId !== framework.id) {
        this.log(`ignoring decline of offer ${value}: it is no longer valid`);
        continue;
      }
      this.removeOffer(offer);
      this.allocator.refuse(
        framework.id,
        offer.agentId,
        offer.role,
        offer.resources,
        seconds,
        Date.now(),
      );
    }
  }

  private revive(framework: FrameworkRecord, roles: string[]): void {
    const targets = new Set(roles.length > 0 ? roles : framework.roles);
    for (const role of targets) framework.suppressedRoles.delete(role);
    this.allocator.clearFilters(framework.id, targets);
    this.allocateSoon();
  }

  private suppress(framework: FrameworkRecord, roles: string[]): void {
    for (const role of roles.length > 0 ? roles : framework.roles) {
      if (framework.roles.includes(role)) framework.suppressedRoles.add(role);
    }
  }

  private kill(framework: FrameworkRecord, kill: NonNullable<SchedulerCall['kill']>): void {
    const task = framework.tasks.get(kill.task_id.value);
    if (task === undefined) {
      // An unknown task is answered as an explicit reconciliation of it.
      this.reconcile(framework, [{ task_id: kill.task_id, agent_id: kill.agent_id }]);
      return;
    }
    const grace =
      kill.kill_policy?.grace_period?.nanoseconds ??
      task.info.kill_policy?.grace_period?.nanoseconds;
    this.agents
      .get(task.agentId)
      ?.killTask(
        framework.id,
        task.info.task_id.value,
        grace === undefined ? undefined : grace / 1e6,
      );
  }

  private shutdownExecutor(framework: FrameworkRecord, shutdown: unknown): void {
    const body = shutdown as { executor_id?: { value: string }; agent_id?: { value: string } };
    const agent = this.agents.get(body.agent_id?.value ?? '');
    if (agent !== undefined && body.executor_id !== undefined) {
      agent.shutdownExecutor(framework.id, body.executor_id.value);
    }
  }

  private acknowledge(
    framework: FrameworkRecord,
    agentId: string,
    taskId: string,
    uuid: string,
  ): void {
    const task = framework.tasks.get(taskId);
    if (task === undefined || task.agentId !== agentId) {
      this.log(`ignoring acknowledgement for unknown task ${taskId} of framework ${framework.id}`);
      return;
    }
    if (
      task.statusUpdateState !== null &&
      isTerminalState(task.statusUpdateState) &&
      task.statusUpdateUuid === uuid
    ) {
      framework.tasks.delete(taskId);
      framework.completedTasks.push(task);
      framework.completedTasks.splice(0, framework.completedTasks.length - MAX_COMPLETED_TASKS);
    }
    this.agents.get(agentId)?.acknowledge(framework.id, taskId, uuid);
  }

  /** Explicit (listed tasks) or implicit (empty list) reconciliation, as reconciliation.md says. */
  private reconcile(framework: FrameworkRecord, tasks: ReconcileTask[]): void {
    const answers = reconciliationAnswers(framework, tasks, (agentId) => this.agents.has(agentId));
    for (const status of answers) this.sendUpdate(framework, status);
  }

  private updateFramework(framework: FrameworkRecord, body: unknown): CallAnswer {
    const update = body as SchedulerCallSubscribe;
    if ((update.framework_info.id?.value ?? '') !== framework.id) {
      return { status: 400, body: "'framework_info.id' must be the ID of the framework" };
    }
    const refusal = validateFrameworkInfo(
      { ...update.framework_info, id: undefined },
      update.suppressed_roles ?? [],
      () => false,
    );
    if (refusal !== null) return { status: 400, body: refusal };
    this.updateFrameworkInfo(framework, update.framework_info);
    const suppressed = new Set(update.suppressed_roles ?? []);
    const unsuppressed = [...framework.suppressedRoles].filter((role) => !suppressed.has(role));
    this.allocator.clearFilters(framework.id, new Set(unsuppressed));
    framework.suppressedRoles = suppressed;
    this.allocateSoon();
    return { status: 200 };
  }

  // ------------------------------------------------------------------------------------------
  // Status updates from agents

  statusUpdate(agentId: string, update: PendingUpdate, latestState: TaskState): void {
    if (this.leader === null || this.stopped) return; // The agent will retry.
    const framework = this.frameworks.get(update.frameworkId);
    const task = framework?.tasks.get(update.status.task_id.value);
    if (framework === undefined || task === undefined || task.agentId !== agentId) return;
    task.state = latestState;
    if (task.statusUpdateUuid !== update.status.uuid) {
      task.statusUpdateState = update.status.state;
      task.statusUpdateUuid = update.status.uuid ?? null;
      const { data: _data, ...kept } = update.status;
      task.statuses.push(kept);
    }
    if (isTerminalState(latestState) && !task.released) task.released = true;
    this.sendUpdate(framework, update.status);
  }

  private sendUpdate(framework: FrameworkRecord, status: TaskStatus): void {
    this.send(framework, { type: 'UPDATE', update: { status } });
  }

  private send(framework: FrameworkRecord, event: SchedulerEvent): void {
    // A disconnected framework misses events; agents re-send status updates later.
    framework.stream?.send(event);
  }

  // ------------------------------------------------------------------------------------------
  // Offers

  allocateSoon(): void {
    if (this.allocationSoon !== null || this.stopped) return;
    this.allocationSoon = setImmediate(() => {
      this.allocationSoon = null;
      this.allocate();
    });
  }

  allocate(): void {
    const leader = this.leader;
    if (leader === null || this.stopped) return;
    const candidates: AllocationCandidate[] = [];
    for (const framework of this.frameworks.values()) {
      if (!framework.active || framework.stream === null) continue;
      const roles = framework.roles.filter((role) => !framework.suppressedRoles.has(role));
      if (roles.length > 0) {
        candidates.push({ frameworkId: framework.id, roles, share: this.shareOf(framework) });
      }
    }
    if (candidates.length === 0) return;
    const agents = [...this.agents.values()].map((agent) => ({
      agentId: agent.id,
      available: agent.total.minus(this.usedOn(agent.id)).minus(this.offeredOn(agent.id)),
    }));
    const byFramework = new Map<string, Offer[]>();
    for (const allocation of this.allocator.allocate(agents, candidates, Date.now())) {
      const framework = this.frameworks.get(allocation.frameworkId);
      if (framework === undefined) continue;
      const offer: OfferRecord = {
        id: offerIdOf(leader.id, leader.nextOfferSequence()),
        frameworkId: framework.id,
        agentId: allocation.agentId,
        role: allocation.role,
        resources: allocation.resources,
        createdAt: Date.now(),
        timer: null,
      };
      const timeout = this.options.offerTimeoutMs;
      if (timeout !== null) offer.timer = setTimeout(() => this.rescindOffer(offer), timeout);
      this.offers.set(offer.id, offer);
      const list = byFramework.get(framework.id) ?? [];
      list.push(offerJson(offer, framework, this.agents.get(offer.agentId)));
      byFramework.set(framework.id, list);
    }
    for (const [frameworkId, offers] of byFramework) {
      const framework = this.frameworks.get(frameworkId);
      if (framework !== undefined) this.send(framework, { type: 'OFFERS', offers: { offers } });
    }
  }

  /** Rescinds outstanding offers (all when no ids are given); returns the ids rescinded. */
  rescindOffers(offerIds?: readonly string[]): string[] {
    const targets =
      offerIds === undefined
        ? [...this.offers.values()]
        : offerIds
            .map((id) => this.offers.get(id))
            .filter((o): o is OfferRecord => o !== undefined);
    for (const offer of targets) this.rescindOffer(offer);
    return targets.map((offer) => offer.id);
  }

  private rescindOffer(offer: OfferRecord): void {
    if (!this.offers.has(offer.id)) return;
    this.removeOffer(offer);
    const framework = this.frameworks.get(offer.frameworkId);
    if (framework !== undefined) {
      this.send(framework, { type: 'RESCIND', rescind: { offer_id: { value: offer.id } } });
    }
  }

  private removeOffer(offer: OfferRecord): void {
    this.clearOfferTimer(offer);
    this.offers.delete(offer.id);
  }

  /** Offers of a framework that (re-)subscribes or leaves simply stop existing, unannounced. */
  private removeOffersOf(framework: FrameworkRecord): void {
    for (const offer of [...this.offers.values()]) {
      if (offer.frameworkId === framework.id) this.removeOffer(offer);
    }
  }

  /** Resources that tasks (not yet terminal) hold on an agent. */
  usedOn(agentId: string, frameworkId?: string): ScalarResources {
    let used = ScalarResources.empty();
    for (const framework of this.frameworks.values()) {
      if (frameworkId !== undefined && framework.id !== frameworkId) continue;
      for (const task of framework.tasks.values()) {
        if (task.agentId === agentId && !task.released) used = used.plus(task.resources);
      }
    }
    return used;
  }

  offeredOn(agentId: string, frameworkId?: string): ScalarResources {
    let offered = ScalarResources.empty();
    for (const offer of this.offers.values()) {
      if (offer.agentId !== agentId) continue;
      if (frameworkId !== undefined && offer.frameworkId !== frameworkId) continue;
      offered = offered.plus(offer.resources);
    }
    return offered;
  }

  /** Dominant resource share (cpus or mem) of what the framework uses and is offered. */
  private shareOf(framework: FrameworkRecord): number {
    let held = ScalarResources.empty();
    let total = ScalarResources.empty();
    for (const agent of this.agents.values()) {
      total = total.plus(agent.total);
      held = held
        .plus(this.usedOn(agent.id, framework.id))
        .plus(this.offeredOn(agent.id, framework.id));
    }
    const share = (name: string) => {
      const all = total.amount(name);
      return all > 0 ? held.amount(name) / all : 0;
    };
    return Math.max(share('cpus'), share('mem'));
  }

  // ------------------------------------------------------------------------------------------
  // Test controls

  /** Breaks every subscription connection, as a network failure would. */
  dropStreams(): void {
    for (const framework of [...this.frameworks.values()]) {
      const stream = framework.stream;
      if (stream === null) continue;
      stream.destroy();
      this.disconnected(framework, stream);
    }
  }

  private requireLeader(): SimulatedMaster {
    if (this.leader === null) throw new Error('no leading master');
    return this.leader;
  }

  private clearFailoverTimer(framework: FrameworkRecord): void {
    if (framework.failoverTimer !== null) clearTimeout(framework.failoverTimer);
    framework.failoverTimer = null;
  }

  private clearOfferTimer(offer: OfferRecord): void {
    if (offer.timer !== null) clearTimeout(offer.timer);
    offer.timer = null;
  }

  private log(line: string): void {
    this.options.log(line);
  }
}

const ACCEPTED: CallAnswer = { status: 202 };

function tasksOf(operation: NonNullable<SchedulerCallAccept['operations']>[number]): TaskInfo[] {
  if (operation.type === 'LAUNCH') return operation.launch?.task_infos ?? [];
  if (operation.type === 'LAUNCH_GROUP') return operation.launch_group?.task_group.tasks ?? [];
  return [];
}
