import type { ServerResponse } from 'node:http';
import { MesosAbortedError, MesosHttpError } from '../http/mesos-http';
import {
  beginEventStream,
  type RecordedRequest,
  refusedUrl,
  ScriptedServer,
  subscribedEvent,
  waitFor,
  writeEvents,
} from '../http/testing/scripted-server';
import { encodeRecord } from '../wire/recordio';
import type { TaskInfo } from '../wire/mesos-messages';
import {
  MesosNotSubscribedError,
  MesosSchedulerClient,
  type MesosSchedulerClientOptions,
} from './mesos-scheduler-client';
import type { MesosSchedulerHandler } from './mesos-scheduler-handler';

type HandlerMethod = keyof MesosSchedulerHandler;

/** A handler that records every delivery, with optional behaviour per method. */
function recordingHandler(behaviour: Partial<MesosSchedulerHandler> = {}) {
  const log: { method: HandlerMethod; value: unknown }[] = [];
  const record =
    (method: HandlerMethod) =>
    (value: unknown): void | Promise<void> => {
      log.push({ method, value });
      const custom = behaviour[method] as ((arg: unknown) => void | Promise<void>) | undefined;
      return custom?.(value);
    };
  const handler: MesosSchedulerHandler = {
    subscribed: record('subscribed'),
    offers: record('offers'),
    rescind: record('rescind'),
    update: record('update'),
    failure: record('failure'),
    error: record('error'),
    disconnected: record('disconnected'),
    message: record('message'),
  };
  /** What `method` received, typed as its parameter. */
  const of = <M extends HandlerMethod>(method: M) =>
    log
      .filter((entry) => entry.method === method)
      .map((entry) => entry.value as Parameters<NonNullable<MesosSchedulerHandler[M]>>[0]);
  return { handler, log, of };
}

type SubscribeScript = (
  request: RecordedRequest,
  response: ServerResponse,
  attempt: number,
) => void;

const servers: ScriptedServer[] = [];
const running: { controller: AbortController; done: Promise<void> }[] = [];

/** A scripted master: SUBSCRIBE runs the script (per attempt), other calls answer 202. */
async function scriptedMaster(
  subscribe: SubscribeScript,
  call: (request: RecordedRequest, response: ServerResponse) => void = (_request, response) => {
    response.writeHead(202);
    response.end();
  },
): Promise<ScriptedServer> {
  let attempts = 0;
  const server = await ScriptedServer.start((request, response) => {
    if (request.json?.type === 'SUBSCRIBE') subscribe(request, response, ++attempts);
    else call(request, response);
  });
  servers.push(server);
  return server;
}

/** SUBSCRIBE answered with SUBSCRIBED and left open. */
const acceptSubscribe =
  (frameworkId = 'fw-1', heartbeatSeconds = 15): SubscribeScript =>
  (_request, response, attempt) => {
    beginEventStream(response, `stream-${attempt}`);
    writeEvents(response, subscribedEvent(frameworkId, heartbeatSeconds));
  };

const FRAMEWORK = {
  user: 'rhythm',
  name: 'rhythm',
  roles: ['*'],
  failover_timeout: 604800,
  capabilities: [{ type: 'MULTI_ROLE' as const }],
};

function newClient(
  masters: string[],
  options: Partial<MesosSchedulerClientOptions> = {},
): MesosSchedulerClient {
  return new MesosSchedulerClient({
    masters,
    framework: FRAMEWORK,
    frameworkId: async () => null,
    reconnect: { initialMs: 5, maxMs: 20 },
    requestTimeoutMs: 2000,
    ...options,
  });
}

function run(client: MesosSchedulerClient, handler: MesosSchedulerHandler) {
  const controller = new AbortController();
  const done = client.start(handler, controller.signal);
  running.push({ controller, done });
  return { controller, done };
}

afterEach(async () => {
  for (const { controller } of running) controller.abort();
  await Promise.all(running.splice(0).map(({ done }) => done));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('MesosSchedulerClient subscription', () => {
  it('subscribes with JSON headers and no Mesos-Stream-Id, then reports the leader', async () => {
    const master = await scriptedMaster(acceptSubscribe('fw-1', 20));
    const client = newClient([master.url]);
    const { handler, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');

    const [subscribe] = master.ofType('SUBSCRIBE');
    expect(subscribe.path).toBe('/api/v1/scheduler');
    expect(subscribe.headers['content-type']).toBe('application/json');
    expect(subscribe.headers.accept).toBe('application/json');
    expect(subscribe.headers['mesos-stream-id']).toBeUndefined();
    expect(subscribe.json).toEqual({ type: 'SUBSCRIBE', subscribe: { framework_info: FRAMEWORK } });
    expect(of('subscribed')).toEqual([
      {
        frameworkId: 'fw-1',
        heartbeatIntervalSeconds: 20,
        masterInfo: expect.objectContaining({ id: 'master-1' }),
        masterUrl: master.url,
      },
    ]);
    expect(client.frameworkId).toBe('fw-1');
    expect(client.masterUrl).toBe(master.url);
  });

  it('decodes events split at arbitrary byte boundaries, in order, skipping unknown types', async () => {
    const events = [
      subscribedEvent('fw-1'),
      { type: 'HEARTBEAT' },
      {
        type: 'OFFERS',
        offers: {
          offers: [
            {
              id: { value: 'offer-1' },
              framework_id: { value: 'fw-1' },
              agent_id: { value: 'agent-1' },
              hostname: 'agent-1.example',
              resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 2 } }],
            },
          ],
        },
      },
      { type: 'SOMETHING_NEWER', something_newer: { x: 1 } },
      { type: 'RESCIND', rescind: { offer_id: { value: 'offer-1' } } },
      {
        type: 'UPDATE',
        update: {
          status: {
            task_id: { value: 'group:project:job:1' },
            state: 'TASK_FAILED',
            message: 'zażółć gęślą jaźń ✓', // multi-byte text across chunk edges
            uuid: 'dXVpZA==',
          },
        },
      },
      { type: 'FAILURE', failure: { agent_id: { value: 'agent-2' } } },
      {
        type: 'MESSAGE',
        message: { agent_id: { value: 'a' }, executor_id: { value: 'e' }, data: 'aGk=' },
      },
    ];
    const wire = Buffer.concat(events.map((event) => encodeRecord(JSON.stringify(event))));
    const master = await scriptedMaster((_request, response) => {
      beginEventStream(response, 'stream-1');
      void (async () => {
        const sizes = [1, 3, 7, 2, 11, 5, 13, 1, 64, 17];
        for (let offset = 0, i = 0; offset < wire.length; i++) {
          const size = sizes[i % sizes.length];
          response.write(wire.subarray(offset, offset + size));
          offset += size;
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      })();
    });
    const client = newClient([master.url]);
    const { handler, log, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => of('message').length === 1, 'all events');

    expect(log.map((entry) => entry.method)).toEqual([
      'subscribed',
      'offers',
      'rescind',
      'update',
      'failure',
      'message',
    ]);
    expect(of('offers')[0][0].id.value).toBe('offer-1');
    expect(of('rescind')).toEqual(['offer-1']);
    expect(of('update')[0].message).toBe('zażółć gęślą jaźń ✓');
    expect(of('failure')).toEqual([{ agent_id: { value: 'agent-2' } }]);
    expect(master.ofType('SUBSCRIBE')).toHaveLength(1);
  });

  it('follows a scheme-relative 307 from a standby master to the leader', async () => {
    const leader = await scriptedMaster(acceptSubscribe());
    const standby = await ScriptedServer.start((request, response) => {
      response.writeHead(307, { Location: `//127.0.0.1:${leader.port}${request.path}` });
      response.end();
    });
    servers.push(standby);
    const client = newClient([standby.url]);
    const { handler, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    await client.revive();

    expect(standby.ofType('SUBSCRIBE')).toHaveLength(1);
    expect(leader.ofType('SUBSCRIBE')).toHaveLength(1);
    expect(of('subscribed')[0].masterUrl).toBe(leader.url);
    expect(client.masterUrl).toBe(leader.url);
    // Calls go straight to the master holding the stream.
    expect(leader.ofType('REVIVE')).toHaveLength(1);
    expect(standby.ofType('REVIVE')).toHaveLength(0);
  });

  it('tries the next master on connection refused and on 5xx', async () => {
    const noLeader = await ScriptedServer.start((_request, response) => {
      response.writeHead(503);
      response.end('No leader elected');
    });
    servers.push(noLeader);
    const leader = await scriptedMaster(acceptSubscribe());
    const sleeps: number[] = [];
    const client = newClient([await refusedUrl(), noLeader.url, leader.url], {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');

    expect(noLeader.ofType('SUBSCRIBE')).toHaveLength(1);
    expect(leader.ofType('SUBSCRIBE')).toHaveLength(1);
    expect(sleeps).toHaveLength(2);
    expect(client.masterUrl).toBe(leader.url);
  });

  it('stays on a master that refuses the SUBSCRIBE itself (4xx)', async () => {
    const rejecting = await ScriptedServer.start((_request, response) => {
      response.writeHead(401);
      response.end('Unauthorized');
    });
    servers.push(rejecting);
    const other = await scriptedMaster(acceptSubscribe());
    const client = newClient([rejecting.url, other.url], { sleep: async () => undefined });

    run(client, recordingHandler().handler);
    await waitFor(() => rejecting.requests.length >= 3, 'three attempts');

    expect(other.requests).toHaveLength(0);
  });

  it('grows the reconnect delay while attempts fail and resets it after SUBSCRIBED', async () => {
    const master = await scriptedMaster((_request, response, attempt) => {
      if (attempt <= 4 || attempt === 6) {
        response.writeHead(503);
        response.end('Master has not finished recovery');
        return;
      }
      beginEventStream(response, `stream-${attempt}`);
      writeEvents(response, subscribedEvent('fw-1'));
      if (attempt === 5) response.end(); // master drops the stream right after subscribing
    });
    const sleeps: number[] = [];
    const client = newClient([master.url], {
      reconnect: { initialMs: 10, maxMs: 80, jitter: 'full', random: () => 1 },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const { handler, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => of('subscribed').length === 2, 'second SUBSCRIBED');

    expect(sleeps).toEqual([10, 20, 40, 80, 10, 20]);
    expect(of('disconnected')).toEqual(['master closed the subscription stream']);
  });

  it('drops a silent stream after heartbeatTimeoutFactor intervals and resubscribes', async () => {
    let heartbeats: NodeJS.Timeout | undefined;
    const master = await scriptedMaster((request, response, attempt) => {
      beginEventStream(response, `stream-${attempt}`);
      writeEvents(response, subscribedEvent('fw-1', 0.1));
      if (attempt === 2) {
        // The second stream stays healthy: heartbeats well inside the 200 ms window.
        heartbeats = setInterval(() => writeEvents(response, { type: 'HEARTBEAT' }), 10);
        void request.closed.then(() => clearInterval(heartbeats));
      }
    });
    const client = newClient([master.url], { heartbeatTimeoutFactor: 2 });
    const { handler, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => master.ofType('SUBSCRIBE').length === 2, 'resubscription');
    await master.requests[0].closed; // the client closed the silent stream

    expect(of('disconnected')).toEqual([expect.stringContaining('heartbeat timeout')]);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(master.ofType('SUBSCRIBE')).toHaveLength(2);
    expect(client.isSubscribed()).toBe(true);
    clearInterval(heartbeats);
  });

  it('reads the stored framework id before every SUBSCRIBE and never sends an empty id', async () => {
    let stored: string | null = '';
    const frameworkId = jest.fn(async () => stored);
    const master = await scriptedMaster((_request, response, attempt) => {
      beginEventStream(response, `stream-${attempt}`);
      writeEvents(response, subscribedEvent('fw-42'));
      if (attempt === 1) response.end();
    });
    const client = newClient([master.url], { frameworkId });
    const { handler } = recordingHandler({
      subscribed: (info) => {
        stored = info.frameworkId;
      },
    });

    run(client, handler);
    await waitFor(() => master.ofType('SUBSCRIBE').length === 2, 'resubscription');

    const [first, second] = master.ofType('SUBSCRIBE');
    expect(first.json.framework_id).toBeUndefined();
    expect(first.json.subscribe.framework_info.id).toBeUndefined();
    expect(second.json.framework_id).toEqual({ value: 'fw-42' });
    expect(second.json.subscribe.framework_info.id).toEqual({ value: 'fw-42' });
    expect(frameworkId).toHaveBeenCalledTimes(2);
  });

  it('on "Framework has been removed" calls error, then subscribes as a new framework', async () => {
    let stored: string | null = 'fw-old';
    const master = await scriptedMaster((request, response, attempt) => {
      beginEventStream(response, `stream-${attempt}`);
      if (request.json.subscribe.framework_info.id?.value === 'fw-old') {
        writeEvents(response, { type: 'ERROR', error: { message: 'Framework has been removed' } });
        response.end();
      } else {
        writeEvents(response, subscribedEvent('fw-new'));
      }
    });
    const client = newClient([master.url], { frameworkId: async () => stored });
    const { handler, log } = recordingHandler({
      error: (message) => {
        if (message === 'Framework has been removed') stored = null;
      },
      subscribed: (info) => {
        stored = info.frameworkId;
      },
    });

    run(client, handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');

    expect(log.map((entry) => [entry.method, entry.value])).toEqual([
      ['error', 'Framework has been removed'],
      ['subscribed', expect.objectContaining({ frameworkId: 'fw-new' })],
    ]);
    const [first, second] = master.ofType('SUBSCRIBE');
    expect(first.json.subscribe.framework_info.id).toEqual({ value: 'fw-old' });
    expect(second.json.subscribe.framework_info.id).toBeUndefined();
    expect(second.json.framework_id).toBeUndefined();
    expect(client.frameworkId).toBe('fw-new');
  });

  it('does not reuse a removed framework id even if the caller keeps returning it', async () => {
    const master = await scriptedMaster((request, response, attempt) => {
      beginEventStream(response, `stream-${attempt}`);
      if (request.json.framework_id?.value === 'fw-old') {
        writeEvents(response, { type: 'ERROR', error: { message: 'Framework has been removed' } });
        response.end();
      } else {
        writeEvents(response, subscribedEvent('fw-new'));
      }
    });
    const client = newClient([master.url], { frameworkId: async () => 'fw-old' });

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');

    expect(master.ofType('SUBSCRIBE')[1].json.framework_id).toBeUndefined();
  });

  it('resubscribes with the same id after any other ERROR', async () => {
    const master = await scriptedMaster((_request, response, attempt) => {
      beginEventStream(response, `stream-${attempt}`);
      if (attempt === 1) {
        writeEvents(response, { type: 'ERROR', error: { message: 'Framework failed over' } });
        response.end();
      } else {
        writeEvents(response, subscribedEvent('fw-1'));
      }
    });
    const client = newClient([master.url], { frameworkId: async () => 'fw-1' });
    const { handler, of } = recordingHandler();

    run(client, handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');

    expect(of('error')).toEqual(['Framework failed over']);
    expect(master.ofType('SUBSCRIBE')[1].json.framework_id).toEqual({ value: 'fw-1' });
  });

  it('keeps reading when a handler throws or rejects', async () => {
    const master = await scriptedMaster((_request, response) => {
      beginEventStream(response, 'stream-1');
      writeEvents(
        response,
        subscribedEvent('fw-1'),
        { type: 'OFFERS', offers: { offers: [] } },
        { type: 'RESCIND', rescind: { offer_id: { value: 'o-1' } } },
        { type: 'UPDATE', update: { status: { task_id: { value: 't' }, state: 'TASK_RUNNING' } } },
      );
    });
    const errors: string[] = [];
    const client = newClient([master.url], {
      logger: { log() {}, warn() {}, error: (message) => errors.push(message) },
    });
    const { handler, of } = recordingHandler({
      offers: () => {
        throw new Error('offers handler bug');
      },
      rescind: async () => {
        throw new Error('rescind handler bug');
      },
    });

    run(client, handler);
    await waitFor(() => of('update').length === 1, 'update after failing handlers');

    expect(errors).toEqual([
      expect.stringContaining('offers handler bug'),
      expect.stringContaining('rescind handler bug'),
    ]);
    expect(master.ofType('SUBSCRIBE')).toHaveLength(1);
    expect(client.isSubscribed()).toBe(true);
  });

  it('sends HTTP Basic credentials on SUBSCRIBE and on calls', async () => {
    const master = await scriptedMaster(acceptSubscribe());
    const client = newClient([master.url], {
      credentials: { principal: 'rhythm', secret: 'pa:ss' },
    });

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    await client.suppress();

    const expected = `Basic ${Buffer.from('rhythm:pa:ss').toString('base64')}`;
    expect(master.ofType('SUBSCRIBE')[0].headers.authorization).toBe(expected);
    expect(master.ofType('SUPPRESS')[0].headers.authorization).toBe(expected);
  });

  it('rejects a configuration without usable master URLs', () => {
    expect(() => newClient([])).toThrow('No Mesos master URL configured');
    expect(() => newClient(['zk://10.0.0.1:2181/mesos'])).toThrow('Unsupported Mesos URL scheme');
    expect(() => newClient(['not a url'])).toThrow('Invalid Mesos URL');
  });

  it('refuses a second start and a start without a handler', async () => {
    const master = await scriptedMaster(acceptSubscribe());
    const client = newClient([master.url]);
    run(client, recordingHandler().handler);

    await expect(
      client.start(recordingHandler().handler, new AbortController().signal),
    ).rejects.toThrow('already running');
    await expect(newClient([master.url]).start(new AbortController().signal)).rejects.toThrow(
      'needs an event handler',
    );
  });
});

describe('MesosSchedulerClient calls', () => {
  const task: TaskInfo = {
    name: 'Task g:p:j:1',
    task_id: { value: 'g:p:j:1' },
    agent_id: { value: 'agent-1' },
    resources: [{ name: 'cpus', type: 'SCALAR', scalar: { value: 0.5 } }],
    command: { value: 'echo hi', shell: true },
  };

  it('refuses calls while not subscribed', async () => {
    const client = newClient(['http://127.0.0.1:1']);
    await expect(client.revive()).rejects.toBeInstanceOf(MesosNotSubscribedError);
    await expect(client.acknowledge('a', 't', 'dQ==')).rejects.toThrow('not subscribed');
  });

  it('sends every call with framework_id and Mesos-Stream-Id on another connection', async () => {
    const master = await scriptedMaster(acceptSubscribe('fw-1'));
    const client = newClient([master.url]);

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    await client.accept(['o-1'], [{ type: 'LAUNCH', launch: { task_infos: [task] } }], {
      refuse_seconds: 30,
    });
    await client.launch(['o-2', 'o-3'], [task]);
    await client.decline(['o-4'], { refuse_seconds: 3600 });
    await client.revive();
    await client.revive(['ops']);
    await client.suppress(['ops']);
    await client.kill('t-1', 'agent-1');
    await client.kill('t-2');
    await client.acknowledge('agent-1', 't-1', 'dXVpZA==');
    await client.reconcile([{ task_id: { value: 't-1' }, agent_id: { value: 'agent-1' } }]);
    await client.reconcile([]);
    await client.teardown();

    const [subscribe, ...calls] = master.requests;
    for (const call of calls) {
      expect(call.path).toBe('/api/v1/scheduler');
      expect(call.headers['mesos-stream-id']).toBe('stream-1');
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.json.framework_id).toEqual({ value: 'fw-1' });
      expect(call.remotePort).not.toBe(subscribe.remotePort);
    }
    const bodies = calls.map(({ json }) => {
      const { framework_id: _id, ...rest } = json;
      return rest;
    });
    expect(bodies).toEqual([
      {
        type: 'ACCEPT',
        accept: {
          offer_ids: [{ value: 'o-1' }],
          operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }],
          filters: { refuse_seconds: 30 },
        },
      },
      {
        type: 'ACCEPT',
        accept: {
          offer_ids: [{ value: 'o-2' }, { value: 'o-3' }],
          operations: [{ type: 'LAUNCH', launch: { task_infos: [task] } }],
        },
      },
      {
        type: 'DECLINE',
        decline: { offer_ids: [{ value: 'o-4' }], filters: { refuse_seconds: 3600 } },
      },
      { type: 'REVIVE' },
      { type: 'REVIVE', revive: { roles: ['ops'] } },
      { type: 'SUPPRESS', suppress: { roles: ['ops'] } },
      { type: 'KILL', kill: { task_id: { value: 't-1' }, agent_id: { value: 'agent-1' } } },
      { type: 'KILL', kill: { task_id: { value: 't-2' } } },
      {
        type: 'ACKNOWLEDGE',
        acknowledge: {
          agent_id: { value: 'agent-1' },
          task_id: { value: 't-1' },
          uuid: 'dXVpZA==',
        },
      },
      {
        type: 'RECONCILE',
        reconcile: { tasks: [{ task_id: { value: 't-1' }, agent_id: { value: 'agent-1' } }] },
      },
      { type: 'RECONCILE', reconcile: { tasks: [] } },
      { type: 'TEARDOWN' },
    ]);
  });

  it('rejects a non-202 answer with MesosHttpError carrying the master message', async () => {
    const master = await scriptedMaster(acceptSubscribe(), (_request, response) => {
      response.writeHead(403);
      response.end('Framework is not subscribed');
    });
    const client = newClient([master.url]);

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    const error = await client.decline(['o-1']).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MesosHttpError);
    expect(error).toMatchObject({ status: 403, body: 'Framework is not subscribed' });
  });

  it('follows a 307 on a call', async () => {
    const newLeader = await scriptedMaster(acceptSubscribe());
    const master = await scriptedMaster(acceptSubscribe(), (request, response) => {
      response.writeHead(307, { Location: `//127.0.0.1:${newLeader.port}${request.path}` });
      response.end();
    });
    const client = newClient([master.url]);

    run(client, recordingHandler().handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    await client.kill('t-1');

    expect(newLeader.ofType('KILL')).toHaveLength(1);
    expect(newLeader.ofType('KILL')[0].headers['mesos-stream-id']).toBe('stream-1');
  });

  it('abort closes the stream, rejects in-flight calls and leaves no connection open', async () => {
    const master = await scriptedMaster(acceptSubscribe(), () => undefined /* never answers */);
    const client = newClient([master.url], { requestTimeoutMs: 5000 });
    const { handler, of } = recordingHandler();

    const { controller, done } = run(client, handler);
    await waitFor(() => client.isSubscribed(), 'SUBSCRIBED');
    const pendingCall = client.revive();
    await waitFor(() => master.ofType('REVIVE').length === 1, 'call to reach the master');
    controller.abort();

    await expect(pendingCall).rejects.toBeInstanceOf(MesosAbortedError);
    await done;
    await Promise.all(master.requests.map((request) => request.closed));
    expect(await master.openConnections()).toBe(0);
    expect(client.isSubscribed()).toBe(false);
    expect(of('disconnected')).toEqual(['client stopped']);
    await expect(client.revive()).rejects.toBeInstanceOf(MesosNotSubscribedError);
  });

  it('returns at once when started with an aborted signal', async () => {
    const master = await scriptedMaster(acceptSubscribe());
    const controller = new AbortController();
    controller.abort();

    await newClient([master.url]).start(recordingHandler().handler, controller.signal);

    expect(master.requests).toHaveLength(0);
  });
});
