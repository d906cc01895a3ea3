import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { SchedulerEvent } from '../../infrastructure/wire/mesos-messages';
import { encodeRecord } from '../../infrastructure/wire/recordio';
import { APPLICATION_JSON } from './http-io';

/**
 * The streaming answer to SUBSCRIBE: `200 OK`, a fresh `Mesos-Stream-Id`, chunked transfer, and
 * one RecordIO record per event, kept open with HEARTBEAT events.
 */
export class SubscriptionStream {
  readonly streamId = randomUUID();
  /** The framework this stream serves, once known (set by the master on SUBSCRIBE). */
  frameworkId = '';
  private heartbeat: NodeJS.Timeout | null = null;
  private open = true;
  private closeListener: (() => void) | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly onSent: (stream: SubscriptionStream, event: SchedulerEvent) => void,
  ) {
    res.writeHead(200, {
      'Content-Type': APPLICATION_JSON,
      'Mesos-Stream-Id': this.streamId,
    });
    res.flushHeaders();
    // Events are small and must arrive one by one, not when Nagle decides.
    res.socket?.setNoDelay(true);
    res.on('close', () => {
      if (!this.open) return;
      this.open = false;
      this.stopHeartbeats();
      this.closeListener?.();
    });
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** Called once if the connection ends without the simulator closing it (a scheduler hang-up). */
  onClientClose(listener: () => void): void {
    this.closeListener = listener;
  }

  send(event: SchedulerEvent): void {
    if (!this.open) return;
    this.res.write(encodeRecord(JSON.stringify(event)));
    this.onSent(this, event);
  }

  /** HEARTBEAT right away and then every interval, as the master's heartbeater does. */
  startHeartbeats(intervalSeconds: number): void {
    this.stopHeartbeats();
    this.send({ type: 'HEARTBEAT' });
    this.heartbeat = setInterval(() => this.send({ type: 'HEARTBEAT' }), intervalSeconds * 1000);
  }

  /** Ends the response cleanly (final chunk): the master closing the subscription. */
  end(): void {
    if (!this.markClosed()) return;
    this.res.end();
  }

  /** Drops the connection without a final chunk: a crashed master or a broken network. */
  destroy(): void {
    if (!this.markClosed()) return;
    this.res.destroy();
  }

  private markClosed(): boolean {
    if (!this.open) return false;
    this.open = false;
    this.stopHeartbeats();
    return true;
  }

  private stopHeartbeats(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
