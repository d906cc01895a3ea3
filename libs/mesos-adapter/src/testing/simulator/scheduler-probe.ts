import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type {
  CommandInfo,
  FrameworkInfo,
  Offer,
  Resource,
  SchedulerEvent,
  TaskInfo,
  TaskStatus,
} from '../../infrastructure/wire/mesos-messages';
import { RecordIoDecoder } from '../../infrastructure/wire/recordio';

/**
 * A bare HTTP scheduler for the simulator's own specs: it subscribes, collects the RecordIO
 * events, and sends calls on separate connections, with nothing of a real client's logic in
 * between, so the specs see exactly what the simulator puts on the wire.
 */

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One POST on its own connection (no pooling: nothing stays open after a test). */
export function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { 'Content-Type': 'application/json' },
  method = 'POST',
): Promise<HttpAnswer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export class SchedulerProbe {
  readonly events: SchedulerEvent[] = [];
  /** How the stream ended: `end` (clean final chunk), `aborted`, or null while open. */
  ended: 'end' | 'aborted' | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly decoder = new RecordIoDecoder();

  private constructor(
    readonly baseUrl: string,
    readonly response: IncomingMessage,
  ) {
    response.on('data', (chunk: Buffer) => {
      for (const record of this.decoder.push(chunk)) {
        this.events.push(JSON.parse(record.toString('utf8')) as SchedulerEvent);
      }
      this.wake();
    });
    response.on('end', () => this.finish('end'));
    response.on('aborted', () => this.finish('aborted'));
    response.on('error', () => this.finish('aborted'));
    response.on('close', () => this.finish('aborted'));
  }

  /** POSTs a SUBSCRIBE and keeps the streaming answer open. */
  static subscribe(
    baseUrl: string,
    frameworkInfo: FrameworkInfo,
    extra: { headers?: Record<string, string>; suppressedRoles?: string[] } = {},
  ): Promise<SchedulerProbe> {
    const subscribe: Record<string, unknown> = { framework_info: frameworkInfo };
    if (extra.suppressedRoles !== undefined) subscribe['suppressed_roles'] = extra.suppressedRoles;
    const call: Record<string, unknown> = { type: 'SUBSCRIBE', subscribe };
    if (frameworkInfo.id !== undefined) call['framework_id'] = frameworkInfo.id;
    return new Promise((resolve, reject) => {
      const req = request(
        `${baseUrl}/api/v1/scheduler`,
        {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            ...extra.headers,
          },
          agent: false,
        },
        (res) => resolve(new SchedulerProbe(baseUrl, res)),
      );
      req.on('error', reject);
      req.end(JSON.stringify(call));
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get streamId(): string {
    return String(this.response.headers['mesos-stream-id']);
  }

  get frameworkId(): string {
    const subscribed = this.events.find((event) => event.type === 'SUBSCRIBED');
    return subscribed?.subscribed?.framework_id.value ?? '';
  }

  /** The first event at or after `from` that matches, waiting for it if needed. */
  async next(
    match: (event: SchedulerEvent) => boolean,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<SchedulerEvent> {
    const from = options.from ?? 0;
    const timeoutMs = options.timeoutMs ?? 5000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      if (this.ended !== null) throw new Error(`stream ended (${this.ended}) before the event`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching event within ${timeoutMs} ms`);
      await this.sleepUntilEvent(left);
    }
  }

  /** Waits for the stream to end. */
  async closed(timeoutMs = 5000): Promise<'end' | 'aborted'> {
    const deadline = Date.now() + timeoutMs;
    while (this.ended === null) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`stream still open after ${timeoutMs} ms`);
      await this.sleepUntilEvent(left);
    }
    return this.ended;
  }

  /** An update event for a task in a given state. */
  update(taskId: string, state: string, options: { from?: number; timeoutMs?: number } = {}) {
    return this.next(
      (event) =>
        event.type === 'UPDATE' &&
        event.update?.status.task_id.value === taskId &&
        event.update.status.state === state,
      options,
    ).then((event) => event.update?.status as TaskStatus);
  }

  /** Sends a non-SUBSCRIBE call with this stream's id (unless `headers` replaces them). */
  call(body: Record<string, unknown>, headers?: Record<string, string>): Promise<HttpAnswer> {
    return post(
      `${this.baseUrl}/api/v1/scheduler`,
      { framework_id: { value: this.frameworkId }, ...body },
      headers ?? { 'Content-Type': 'application/json', 'Mesos-Stream-Id': this.streamId },
    );
  }

  /** The offers of the first OFFERS event at or after `from`. */
  async offers(options: { from?: number; timeoutMs?: number } = {}): Promise<Offer[]> {
    const event = await this.next((e) => e.type === 'OFFERS', options);
    return event.offers?.offers ?? [];
  }

  acknowledge(status: TaskStatus): Promise<HttpAnswer> {
    return this.call({
      type: 'ACKNOWLEDGE',
      acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
    });
  }

  close(): void {
    this.response.destroy();
    this.finish('aborted');
  }

  private finish(how: 'end' | 'aborted'): void {
    if (this.ended === null) this.ended = how;
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private sleepUntilEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}

/** A command `TaskInfo` for an offer, asking for `cpus` and `mem` (unreserved, offer's role). */
export function commandTask(
  taskId: string,
  offer: Offer,
  command: CommandInfo,
  resources: { cpus?: number; mem?: number } = {},
): TaskInfo {
  const role = offer.allocation_info?.role;
  const scalar = (name: string, value: number): Resource => ({
    name,
    type: 'SCALAR',
    scalar: { value },
    ...(role === undefined ? {} : { allocation_info: { role } }),
  });
  return {
    name: `task ${taskId}`,
    task_id: { value: taskId },
    agent_id: offer.agent_id,
    resources: [scalar('cpus', resources.cpus ?? 0.1), scalar('mem', resources.mem ?? 32)],
    command,
  };
}

/** The body of an ACCEPT launching `tasks` on `offers`. */
export function launchCall(
  offers: Offer[],
  tasks: TaskInfo[],
  refuseSeconds?: number,
): Record<string, unknown> {
  const accept: Record<string, unknown> = {
    offer_ids: offers.map((offer) => offer.id),
    operations: [{ type: 'LAUNCH', launch: { task_infos: tasks } }],
  };
  if (refuseSeconds !== undefined) accept['filters'] = { refuse_seconds: refuseSeconds };
  return { type: 'ACCEPT', accept };
}
