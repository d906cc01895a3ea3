import type { SchedulerEvent } from '../../infrastructure/wire/mesos-messages';

/** One request to a scheduler endpoint, as received and answered. */
export interface RecordedCall {
  /** Order of arrival over the simulator's lifetime. */
  seq: number;
  /** Epoch milliseconds when the answer was given. */
  at: number;
  /** Index of the master that received it. */
  master: number;
  method: string;
  path: string;
  /** `Call.type` when the body could be read, else null. */
  type: string | null;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  /** HTTP status the simulator answered with. */
  status: number;
  /** The error text of a 4xx/5xx answer (empty otherwise). */
  error: string;
  /** `Mesos-Stream-Id` request header. */
  streamId: string | null;
  /** Framework the call names (`framework_id`, or `framework_info.id` on SUBSCRIBE). */
  frameworkId: string | null;
}

/** One event written on a subscription stream. */
export interface RecordedEvent {
  seq: number;
  at: number;
  frameworkId: string;
  streamId: string;
  event: SchedulerEvent;
}

/** Keeps what tests assert on: every scheduler call and every event sent. */
export class Recorder {
  readonly calls: RecordedCall[] = [];
  readonly events: RecordedEvent[] = [];
  private sequence = 0;

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Numbers a call on arrival, so its `seq` orders it before the events it causes. */
  reserveSeq(): number {
    return this.sequence++;
  }

  recordCall(call: Omit<RecordedCall, 'at'>): void {
    this.calls.push({ at: Date.now(), ...call });
    const error = call.error === '' ? '' : ` (${call.error.trim()})`;
    this.log(
      `[master ${call.master}] ${call.method} ${call.path} ${call.type ?? '?'} -> ${call.status}${error}`,
    );
  }

  recordEvent(frameworkId: string, streamId: string, event: SchedulerEvent): void {
    this.events.push({ seq: this.sequence++, at: Date.now(), frameworkId, streamId, event });
    if (event.type === 'HEARTBEAT' || event.type === 'OFFERS') return;
    const status = event.update?.status;
    const detail =
      status !== undefined
        ? ` ${status.task_id.value} ${status.state}${status.message === undefined ? '' : ` (${status.message})`}`
        : (event.error?.message ?? '');
    this.log(`event ${event.type} to ${frameworkId}${detail === '' ? '' : ':'}${detail}`);
  }
}
