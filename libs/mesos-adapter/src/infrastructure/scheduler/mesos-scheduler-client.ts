/**
 * Mesos v1 Scheduler HTTP API client: one long-lived SUBSCRIBE stream (RecordIO-framed JSON
 * events) plus calls sent on other connections to the same master with the stream's
 * `Mesos-Stream-Id`. The loop resubscribes with backoff until its signal aborts, always with the
 * framework id the caller has stored at that moment.
 */
import {
  describeUrl,
  endpointUrl,
  isMasterUnavailable,
  MesosHttp,
  type MesosCredentials,
  type MesosLogger,
  type MesosStream,
  SILENT_LOGGER,
} from '../http/mesos-http';
import { RecordIoDecoder } from '../wire/recordio';
import type {
  Filters,
  FrameworkInfo,
  OfferOperation,
  ReconcileTask,
  SchedulerCall,
  SchedulerEvent,
  SchedulerEventType,
  TaskInfo,
} from '../wire/mesos-messages';
import { FRAMEWORK_REMOVED_MESSAGE, type MesosSchedulerHandler } from './mesos-scheduler-handler';
import { ReconnectBackoff, type ReconnectBackoffOptions } from './reconnect-backoff';

export const SCHEDULER_PATH = '/api/v1/scheduler';
/** The master's default, used until SUBSCRIBED says otherwise. */
const DEFAULT_HEARTBEAT_INTERVAL_SECONDS = 15;

export interface MesosSchedulerClientOptions {
  /** Base URLs such as `http://10.0.0.1:5050`, tried round-robin. */
  masters: string[];
  /** Sent on every SUBSCRIBE; the id comes from `frameworkId`, never from here. */
  framework: Omit<FrameworkInfo, 'id'>;
  /** Read before every SUBSCRIBE; null or '' subscribes as a new framework. */
  frameworkId: () => Promise<string | null>;
  credentials?: MesosCredentials;
  ca?: Buffer;
  reconnect?: ReconnectBackoffOptions;
  /** No event for this many heartbeat intervals closes the stream and resubscribes. Default 5. */
  heartbeatTimeoutFactor?: number;
  /** Limit for each call, and for SUBSCRIBE to get its response headers. Default 10 s. */
  requestTimeoutMs?: number;
  handler?: MesosSchedulerHandler;
  logger?: MesosLogger;
  /** Waits between attempts; injectable so tests can observe the backoff without waiting. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** A call was made while no subscription is established. */
export class MesosNotSubscribedError extends Error {
  override readonly name = 'MesosNotSubscribedError';
}

class HeartbeatTimeoutError extends Error {
  override readonly name = 'HeartbeatTimeoutError';
}

interface Subscription {
  masterUrl: string;
  streamId: string;
  frameworkId: string;
}

/** One open subscription stream and what its events need. */
interface StreamContext {
  stream: MesosStream;
  streamId: string;
  /** The id the SUBSCRIBE carried (null: registering a new framework). */
  sentFrameworkId: string | null;
  handler: MesosSchedulerHandler;
  backoff: ReconnectBackoff;
  /** No event for this long means the master or the path to it is gone. */
  silenceLimitMs: number;
}

/** How one attempt ended, and whether the next attempt should go to another master. */
interface AttemptOutcome {
  reason: string;
  nextMaster: boolean;
}

export class MesosSchedulerClient {
  private readonly http: MesosHttp;
  private readonly logger: MesosLogger;
  private readonly heartbeatTimeoutFactor: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private subscription: Subscription | null = null;
  private latestFrameworkId: string | null = null;
  private latestMasterUrl: string | null = null;
  /** Set by `Framework has been removed`: this id must never be subscribed with again. */
  private removedFrameworkId: string | null = null;
  /** Aborted when `start`'s signal aborts; every in-flight call listens to it. */
  private lifecycle: AbortController | null = null;

  constructor(private readonly options: MesosSchedulerClientOptions) {
    if (options.masters.length === 0) throw new TypeError('No Mesos master URL configured');
    for (const master of options.masters) endpointUrl(master, SCHEDULER_PATH); // fail fast
    this.http = new MesosHttp({
      credentials: options.credentials,
      ca: options.ca,
      requestTimeoutMs: options.requestTimeoutMs,
    });
    this.logger = options.logger ?? SILENT_LOGGER;
    this.heartbeatTimeoutFactor = options.heartbeatTimeoutFactor ?? 5;
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** True between a SUBSCRIBED event and the end of that stream. */
  isSubscribed(): boolean {
    return this.subscription !== null;
  }

  /** The id of the latest SUBSCRIBED; null before it and after `Framework has been removed`. */
  get frameworkId(): string | null {
    return this.latestFrameworkId;
  }

  /** Base URL of the master that last accepted our SUBSCRIBE (the leader), kept across drops. */
  get masterUrl(): string | null {
    return this.latestMasterUrl;
  }

  /**
   * Subscribes and keeps resubscribing until `signal` aborts; then closes the stream, rejects
   * in-flight calls and resolves. Never rejects.
   */
  start(signal: AbortSignal): Promise<void>;
  start(handler: MesosSchedulerHandler, signal: AbortSignal): Promise<void>;
  async start(
    handlerOrSignal: MesosSchedulerHandler | AbortSignal,
    maybeSignal?: AbortSignal,
  ): Promise<void> {
    const signal = maybeSignal ?? (handlerOrSignal as AbortSignal);
    const handler = maybeSignal ? (handlerOrSignal as MesosSchedulerHandler) : this.options.handler;
    if (!handler) throw new TypeError('MesosSchedulerClient.start needs an event handler');
    if (this.lifecycle) throw new Error('MesosSchedulerClient is already running');
    const lifecycle = new AbortController();
    this.lifecycle = lifecycle;
    const stop = () => lifecycle.abort(new Error('Mesos scheduler client stopped'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    try {
      await this.run(handler, lifecycle.signal);
    } finally {
      signal.removeEventListener('abort', stop);
      this.subscription = null;
      this.lifecycle = null;
      this.http.close();
    }
  }

  accept(offerIds: string[], operations: OfferOperation[], filters?: Filters): Promise<void> {
    return this.call({
      type: 'ACCEPT',
      accept: { offer_ids: offerIds.map((value) => ({ value })), operations, filters },
    });
  }

  /** ACCEPT with a single LAUNCH operation. */
  launch(offerIds: string[], tasks: TaskInfo[], filters?: Filters): Promise<void> {
    return this.accept(offerIds, [{ type: 'LAUNCH', launch: { task_infos: tasks } }], filters);
  }

  decline(offerIds: string[], filters?: Filters): Promise<void> {
    return this.call({
      type: 'DECLINE',
      decline: { offer_ids: offerIds.map((value) => ({ value })), filters },
    });
  }

  /** Clears offer filters and resumes offers; no roles means every role of the framework. */
  revive(roles?: string[]): Promise<void> {
    return this.call({ type: 'REVIVE', ...(roles?.length ? { revive: { roles } } : {}) });
  }

  /** Stops offers; no roles means every role of the framework. */
  suppress(roles?: string[]): Promise<void> {
    return this.call({ type: 'SUPPRESS', ...(roles?.length ? { suppress: { roles } } : {}) });
  }

  kill(taskId: string, agentId?: string): Promise<void> {
    return this.call({
      type: 'KILL',
      kill: { task_id: { value: taskId }, ...(agentId ? { agent_id: { value: agentId } } : {}) },
    });
  }

  /** `uuid` is the status update's `uuid`, base64 as received. */
  acknowledge(agentId: string, taskId: string, uuid: string): Promise<void> {
    return this.call({
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: { value: agentId }, task_id: { value: taskId }, uuid },
    });
  }

  /** Explicit reconciliation of these tasks; an empty list asks for every task (implicit). */
  reconcile(tasks: ReconcileTask[]): Promise<void> {
    return this.call({ type: 'RECONCILE', reconcile: { tasks } });
  }

  /**
   * Removes the framework and kills its tasks. The master then closes the stream; stop the
   * client (abort) rather than let it resubscribe to a removed framework.
   */
  teardown(): Promise<void> {
    return this.call({ type: 'TEARDOWN' });
  }

  private async call(call: Omit<SchedulerCall, 'framework_id'>): Promise<void> {
    const subscription = this.subscription;
    const lifecycle = this.lifecycle;
    if (!subscription || !lifecycle) {
      throw new MesosNotSubscribedError(`Cannot send ${call.type}: not subscribed to Mesos`);
    }
    await this.http.postJson(
      {
        baseUrl: subscription.masterUrl,
        path: SCHEDULER_PATH,
        body: { framework_id: { value: subscription.frameworkId }, ...call },
        headers: { 'Mesos-Stream-Id': subscription.streamId },
        signal: lifecycle.signal,
      },
      202,
    );
  }

  private async run(handler: MesosSchedulerHandler, signal: AbortSignal): Promise<void> {
    const backoff = new ReconnectBackoff(this.options.reconnect);
    const masters = this.options.masters;
    let masterIndex = 0;
    while (!signal.aborted) {
      const outcome = await this.attempt(masters[masterIndex], handler, backoff, signal);
      if (signal.aborted) break;
      if (outcome.nextMaster) masterIndex = (masterIndex + 1) % masters.length;
      const delay = backoff.next();
      this.logger.warn(`Mesos subscription ended (${outcome.reason}); retrying in ${delay} ms`);
      await this.sleep(delay, signal);
    }
  }

  /** One SUBSCRIBE and its stream, from connect to close. Never throws. */
  private async attempt(
    master: string,
    handler: MesosSchedulerHandler,
    backoff: ReconnectBackoff,
    signal: AbortSignal,
  ): Promise<AttemptOutcome> {
    let storedId: string | null;
    try {
      storedId = await this.options.frameworkId();
    } catch (error) {
      return {
        reason: `reading the stored framework id failed: ${messageOf(error)}`,
        nextMaster: false,
      };
    }
    let frameworkId = storedId?.trim() ? storedId.trim() : null;
    if (frameworkId && frameworkId === this.removedFrameworkId) {
      // The caller did not forget the removed id; reusing it would fail the same way forever.
      this.logger.warn(`Framework ${frameworkId} was removed by Mesos; subscribing as a new one`);
      frameworkId = null;
    }
    const subscribe = this.subscribeCall(frameworkId);

    this.logger.log(
      `Subscribing to Mesos at ${describeUrl(master)} as ${frameworkId ?? 'a new framework'}`,
    );
    let stream: MesosStream;
    try {
      stream = await this.http.openStream({
        baseUrl: master,
        path: SCHEDULER_PATH,
        body: subscribe,
        signal,
      });
    } catch (error) {
      const unavailable = isMasterUnavailable(error);
      // A 4xx is our fault (credentials, framework info) and will not fix itself: say so loudly.
      if (!unavailable && !signal.aborted) {
        this.logger.error(`Mesos SUBSCRIBE refused: ${messageOf(error)}`);
      }
      return { reason: messageOf(error), nextMaster: unavailable };
    }

    const streamId = headerValue(stream.response.headers['mesos-stream-id']);
    if (!streamId) {
      stream.close();
      return { reason: `${stream.baseUrl} sent no Mesos-Stream-Id header`, nextMaster: false };
    }

    let reason: string;
    try {
      reason = await this.consume(
        {
          stream,
          streamId,
          sentFrameworkId: frameworkId,
          handler,
          backoff,
          silenceLimitMs: this.silenceLimitMs(DEFAULT_HEARTBEAT_INTERVAL_SECONDS),
        },
        signal,
      );
    } finally {
      stream.close();
    }
    if (signal.aborted) reason = 'client stopped';
    if (this.subscription) {
      this.subscription = null;
      await this.deliver('disconnected', () => handler.disconnected(reason));
    }
    return { reason, nextMaster: false };
  }

  private subscribeCall(frameworkId: string | null): SchedulerCall {
    // Drop any id the caller slipped into `framework`: only the stored one may be sent.
    const { id: _ignored, ...framework } = this.options.framework as FrameworkInfo;
    const framework_info: FrameworkInfo = frameworkId
      ? { ...framework, id: { value: frameworkId } }
      : framework;
    return {
      type: 'SUBSCRIBE',
      ...(frameworkId ? { framework_id: { value: frameworkId } } : {}),
      subscribe: { framework_info },
    };
  }

  /** Reads events until the stream ends or must be dropped; returns why it ended. */
  private async consume(stream: StreamContext, signal: AbortSignal): Promise<string> {
    const decoder = new RecordIoDecoder();
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      const limitMs = stream.silenceLimitMs;
      watchdog = setTimeout(
        () => stream.stream.close(new HeartbeatTimeoutError(`no event for ${limitMs} ms`)),
        limitMs,
      );
    };
    try {
      arm();
      for await (const chunk of stream.stream.response as AsyncIterable<Buffer>) {
        // Paused while events are handled, so a slow handler is not mistaken for a dead master.
        clearTimeout(watchdog);
        for (const record of decoder.push(chunk)) {
          if (signal.aborted) return 'client stopped';
          const endReason = await this.handleEvent(parseEvent(record), stream);
          if (endReason) return endReason;
        }
        arm();
      }
      return 'master closed the subscription stream';
    } catch (error) {
      if (error instanceof HeartbeatTimeoutError) return `heartbeat timeout: ${error.message}`;
      return `subscription stream failed: ${messageOf(error)}`;
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** Delivers one event; returns why the stream must end, or null to read on. */
  private async handleEvent(event: SchedulerEvent, stream: StreamContext): Promise<string | null> {
    const { handler } = stream;
    const type = event.type as SchedulerEventType;
    switch (type) {
      case 'SUBSCRIBED':
        return this.onSubscribed(event, stream);
      case 'ERROR': {
        const message = event.error?.message ?? '';
        this.logger.error(`Mesos master sent ERROR: ${message}`);
        if (message === FRAMEWORK_REMOVED_MESSAGE) {
          this.removedFrameworkId = this.subscription?.frameworkId ?? stream.sentFrameworkId;
          this.latestFrameworkId = null;
        }
        await this.deliver('error', () => handler.error(message));
        return `master sent ERROR: ${message}`;
      }
      case 'OFFERS': {
        const offers = event.offers?.offers ?? [];
        await this.deliver('offers', () => handler.offers(offers));
        return null;
      }
      case 'RESCIND': {
        const offerId = event.rescind?.offer_id?.value;
        if (offerId) await this.deliver('rescind', () => handler.rescind(offerId));
        return null;
      }
      case 'UPDATE': {
        const status = event.update?.status;
        if (status) await this.deliver('update', () => handler.update(status));
        return null;
      }
      case 'FAILURE': {
        const failure = event.failure;
        if (failure) await this.deliver('failure', () => handler.failure(failure));
        return null;
      }
      case 'MESSAGE': {
        const message = event.message;
        if (message) await this.deliver('message', () => handler.message?.(message));
        return null;
      }
      case 'HEARTBEAT':
        return null; // Its arrival already fed the watchdog.
      case 'INVERSE_OFFERS':
      case 'RESCIND_INVERSE_OFFER':
      case 'UPDATE_OPERATION_STATUS':
      case 'UNKNOWN':
        return null; // Maintenance and operation feedback: Rhythm uses neither.
      default:
        // A type newer than this client: skipping it keeps the stream usable.
        this.logger.debug?.(`Ignoring Mesos event of unknown type ${String(event.type)}`);
        return null;
    }
  }

  private async onSubscribed(event: SchedulerEvent, stream: StreamContext): Promise<string | null> {
    const subscribed = event.subscribed;
    const frameworkId = subscribed?.framework_id?.value;
    if (!frameworkId) return 'SUBSCRIBED event without a framework id';
    const announced = subscribed.heartbeat_interval_seconds;
    // Older masters leave it out; a zero would make the watchdog fire at once.
    const interval =
      announced !== undefined && announced > 0 ? announced : DEFAULT_HEARTBEAT_INTERVAL_SECONDS;
    const masterUrl = stream.stream.baseUrl;
    stream.silenceLimitMs = this.silenceLimitMs(interval);
    this.subscription = { masterUrl, streamId: stream.streamId, frameworkId };
    this.latestFrameworkId = frameworkId;
    this.latestMasterUrl = masterUrl;
    stream.backoff.reset();
    this.logger.log(`Subscribed to Mesos at ${masterUrl} as framework ${frameworkId}`);
    await this.deliver('subscribed', () =>
      stream.handler.subscribed({
        frameworkId,
        heartbeatIntervalSeconds: interval,
        masterInfo: subscribed.master_info,
        masterUrl,
      }),
    );
    return null;
  }

  /** Runs a handler method; its failure is logged and never ends the stream. */
  private async deliver(name: string, invoke: () => void | Promise<void>): Promise<void> {
    try {
      await invoke();
    } catch (error) {
      this.logger.error(`Mesos event handler ${name} failed: ${messageOf(error)}`);
    }
  }

  private silenceLimitMs(heartbeatIntervalSeconds: number): number {
    return Math.max(1, Math.round(heartbeatIntervalSeconds * 1000 * this.heartbeatTimeoutFactor));
  }
}

function parseEvent(record: Buffer): SchedulerEvent {
  const parsed: unknown = JSON.parse(record.toString('utf8'));
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    typeof (parsed as { type?: unknown }).type !== 'string'
  ) {
    throw new Error('event without a type');
  }
  return parsed as SchedulerEvent;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
