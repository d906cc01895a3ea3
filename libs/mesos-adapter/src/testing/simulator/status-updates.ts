import type { TaskStatus } from '../../infrastructure/wire/mesos-messages';

/**
 * The agent's status update manager: per task, updates are sent strictly one at a time; the head
 * is re-sent (same uuid) with a doubling interval until the scheduler acknowledges it, and only
 * then is the next one sent.
 */

export interface PendingUpdate {
  frameworkId: string;
  /** Always carries a `uuid`. */
  status: TaskStatus;
}

export interface AckResult {
  /** The uuid was the one awaited; the stream moved on. */
  matched: boolean;
  /** The acknowledged update was terminal: the task is done on this agent. */
  terminal: boolean;
}

interface Stream {
  queue: PendingUpdate[];
  timer: NodeJS.Timeout | null;
  intervalMs: number;
}

const TERMINAL_STATES = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function isTerminalState(state: string): boolean {
  return TERMINAL_STATES.has(state);
}

export class StatusUpdateManager {
  private readonly streams = new Map<string, Stream>();

  constructor(
    private readonly forward: (update: PendingUpdate) => void,
    private readonly retryMs: number,
    private readonly retryMaxMs: number,
  ) {}

  enqueue(update: PendingUpdate): void {
    const key = keyOf(update.frameworkId, update.status.task_id.value);
    let stream = this.streams.get(key);
    if (stream === undefined) {
      stream = { queue: [], timer: null, intervalMs: this.retryMs };
      this.streams.set(key, stream);
    }
    stream.queue.push(update);
    if (stream.queue.length === 1) this.sendHead(stream, this.retryMs);
  }

  acknowledge(frameworkId: string, taskId: string, uuid: string): AckResult {
    const key = keyOf(frameworkId, taskId);
    const stream = this.streams.get(key);
    const head = stream?.queue[0];
    if (stream === undefined || head === undefined || head.status.uuid !== uuid) {
      return { matched: false, terminal: false };
    }
    stream.queue.shift();
    this.clearTimer(stream);
    if (stream.queue.length > 0) this.sendHead(stream, this.retryMs);
    else this.streams.delete(key);
    return { matched: true, terminal: isTerminalState(head.status.state) };
  }

  /** Re-sends every awaited update (of one framework, or all) now, as after a re-registration. */
  resume(frameworkId?: string): void {
    for (const stream of this.streams.values()) {
      const head = stream.queue[0];
      if (head === undefined) continue;
      if (frameworkId !== undefined && head.frameworkId !== frameworkId) continue;
      this.clearTimer(stream);
      this.sendHead(stream, this.retryMs);
    }
  }

  /** Updates not yet acknowledged for one task (the head is in flight). */
  pending(frameworkId: string, taskId: string): readonly PendingUpdate[] {
    return this.streams.get(keyOf(frameworkId, taskId))?.queue ?? [];
  }

  dropFramework(frameworkId: string): void {
    for (const [key, stream] of this.streams) {
      if (stream.queue[0]?.frameworkId !== frameworkId) continue;
      this.clearTimer(stream);
      this.streams.delete(key);
    }
  }

  stop(): void {
    for (const stream of this.streams.values()) this.clearTimer(stream);
    this.streams.clear();
  }

  private sendHead(stream: Stream, intervalMs: number): void {
    const head = stream.queue[0];
    if (head === undefined) return;
    stream.intervalMs = intervalMs;
    stream.timer = setTimeout(
      () => this.sendHead(stream, Math.min(stream.intervalMs * 2, this.retryMaxMs)),
      intervalMs,
    );
    this.forward(head);
  }

  private clearTimer(stream: Stream): void {
    if (stream.timer !== null) clearTimeout(stream.timer);
    stream.timer = null;
  }
}

function keyOf(frameworkId: string, taskId: string): string {
  return `${frameworkId}\u0000${taskId}`;
}
