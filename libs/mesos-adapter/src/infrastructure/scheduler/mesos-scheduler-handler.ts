import type {
  MasterInfo,
  Offer,
  SchedulerEventFailure,
  SchedulerEventMessage,
  TaskStatus,
} from '../wire/mesos-messages';

export interface SchedulerSubscribedInfo {
  /** The id Mesos assigned or confirmed; the caller stores it for the next SUBSCRIBE. */
  frameworkId: string;
  /** From the SUBSCRIBED event; 15 when an older master leaves it out. */
  heartbeatIntervalSeconds: number;
  masterInfo?: MasterInfo;
  /** Base URL of the master that accepted the SUBSCRIBE, after redirects (the leader). */
  masterUrl: string;
}

/**
 * Receives the events of the subscription stream, one at a time and in stream order: a returned
 * promise is awaited before the next event is delivered, so a handler that waits for a call to the
 * master holds up every later event. A throw or rejection is logged and the stream goes on.
 */
export interface MesosSchedulerHandler {
  subscribed(info: SchedulerSubscribedInfo): void | Promise<void>;
  offers(offers: Offer[]): void | Promise<void>;
  rescind(offerId: string): void | Promise<void>;
  update(status: TaskStatus): void | Promise<void>;
  /** An agent, or an executor on it, was lost. */
  failure(failure: SchedulerEventFailure): void | Promise<void>;
  /**
   * The master sent ERROR; the client resubscribes after a backoff. For
   * `FRAMEWORK_REMOVED_MESSAGE` the caller must forget its stored framework id, so the next
   * SUBSCRIBE registers a new framework.
   */
  error(message: string): void | Promise<void>;
  /** A subscription that had reached SUBSCRIBED ended; calls are refused until the next one. */
  disconnected(reason: string): void | Promise<void>;
  /** A framework message from an executor (Rhythm's command tasks send none). */
  message?(message: SchedulerEventMessage): void | Promise<void>;
}

/** The master's ERROR text when the framework was torn down or its failover timeout expired. */
export const FRAMEWORK_REMOVED_MESSAGE = 'Framework has been removed';
