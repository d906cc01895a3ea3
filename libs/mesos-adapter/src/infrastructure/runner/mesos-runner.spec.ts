import type { ServerResponse } from 'node:http';
import { Logger } from '@nestjs/common';
import type { SchedulerStateRepository } from '@rhythm/jobs';
import { SAMPLE_SPEC } from '@rhythm/jobs/testing/job-fixtures';
import type { SecretStore } from '@rhythm/runners';
import type {
  LeaderElection,
  LeadershipTerm,
  RunLaunch,
  TaskStatusUpdate,
} from '@rhythm/scheduling';
import {
  beginEventStream,
  ScriptedServer,
  subscribedEvent,
  waitFor,
  writeEvents,
} from '../http/testing/scripted-server';
import type { Offer, TaskStatus } from '../wire/mesos-messages';
import { MAX_ACKNOWLEDGEMENTS_IN_FLIGHT, MesosRunner } from './mesos-runner';
import { DEFAULT_MESOS_TUNING, type MesosRunnerOptions } from './mesos-runner.options';

/**
 * A scripted master: SUBSCRIBE opens an event stream the test writes to; every other call is
 * answered 202 at once, unless its type is held (answered on `release`) or set to fail.
 */
class FakeMaster {
  /** `> TYPE` when a call arrives, `< TYPE` when it is answered, in that order. */
  readonly timeline: string[] = [];
  private stream: ServerResponse | null = null;
  private readonly holding = new Set<string>();
  private readonly failing = new Set<string>();
  private readonly held: { type: string; answer: () => void }[] = [];
  private readonly inFlight = new Map<string, number>();
  private readonly peak = new Map<string, number>();
  private server!: ScriptedServer;

  static async start(): Promise<FakeMaster> {
    const master = new FakeMaster();
    master.server = await ScriptedServer.start((request, response) => {
      const type = String((request.json as { type?: unknown } | undefined)?.type);
      if (type === 'SUBSCRIBE') {
        beginEventStream(response, 'stream-1');
        writeEvents(response, subscribedEvent(FRAMEWORK_ID));
        master.stream = response;
      } else {
        master.receive(type, response);
      }
    });
    return master;
  }

  get url(): string {
    return this.server.url;
  }

  /** Bodies of the calls of this type, in arrival order. */
  calls<T = Record<string, unknown>>(type: string): T[] {
    return this.server.ofType(type).map((request) => request.json as T);
  }

  inFlightOf(type: string): number {
    return this.inFlight.get(type) ?? 0;
  }

  /** The most calls of this type that were unanswered at the same time. */
  peakOf(type: string): number {
    return this.peak.get(type) ?? 0;
  }

  /** Index in the timeline of the `n`th (0-based) arrival or answer, -1 when none. */
  indexOf(entry: string, n = 0): number {
    return this.timeline.map((e, i) => (e === entry ? i : -1)).filter((i) => i >= 0)[n] ?? -1;
  }

  hold(type: string): void {
    this.holding.add(type);
  }

  /** Answers the held calls of this type, and the later ones at once. */
  release(type: string): void {
    this.holding.delete(type);
    for (const call of this.held.filter((candidate) => candidate.type === type)) {
      this.held.splice(this.held.indexOf(call), 1);
      call.answer();
    }
  }

  /** The next call of this type is answered 500. */
  failNext(type: string): void {
    this.failing.add(type);
  }

  send(...events: unknown[]): void {
    if (!this.stream) throw new Error('no subscription stream');
    writeEvents(this.stream, ...events);
  }

  async close(): Promise<void> {
    for (const type of new Set(this.held.map((call) => call.type))) this.release(type);
    await this.server.close();
  }

  private receive(type: string, response: ServerResponse): void {
    this.timeline.push(`> ${type}`);
    const count = this.inFlightOf(type) + 1;
    this.inFlight.set(type, count);
    this.peak.set(type, Math.max(count, this.peakOf(type)));
    const status = this.failing.delete(type) ? 500 : 202;
    const answer = () => {
      this.inFlight.set(type, this.inFlightOf(type) - 1);
      this.timeline.push(`< ${type}`);
      response.writeHead(status);
      response.end();
    };
    if (this.holding.has(type)) this.held.push({ type, answer });
    else answer();
  }
}

const FRAMEWORK_ID = 'fw-1';

function options(master: string): MesosRunnerOptions {
  return {
    masters: [master],
    framework: { user: 'rhythm', name: 'rhythm', roles: ['*'], failover_timeout: 60 },
    reconnect: { initialMs: 5, maxMs: 20 },
    ...DEFAULT_MESOS_TUNING,
  };
}

function election(term: LeadershipTerm): LeaderElection {
  return {
    isLeader: () => !term.signal.aborted,
    currentTerm: () => (term.signal.aborted ? null : term),
    onTerm: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
}

function memoryState(): SchedulerStateRepository {
  const values = new Map<string, string>();
  return {
    get: async (name) => values.get(name) ?? null,
    set: async (name, value) => {
      if (value === null) values.delete(name);
      else values.set(name, value);
    },
  };
}

const NO_SECRETS: SecretStore = {
  read: async () => {
    throw new Error('no secrets in these tests');
  },
};

function run(name: string, cpus: number): RunLaunch {
  return {
    taskId: `g:p:${name}:1`,
    jobId: { group: 'g', project: 'p', id: name },
    spec: { ...SAMPLE_SPEC, cpus, mem: 64, disk: 0 },
    scheduledAt: new Date('2026-01-01T00:01:00Z'),
    attempt: 1,
    options: {},
  };
}

const scalar = (name: string, value: number) => ({ name, type: 'SCALAR', scalar: { value } });

function offer(id: string, cpus: number): Offer {
  return {
    id: { value: id },
    framework_id: { value: FRAMEWORK_ID },
    agent_id: { value: `agent-${id}` },
    hostname: `host-${id}`,
    resources: [scalar('cpus', cpus), scalar('mem', 4096)],
  } as Offer;
}

const offersEvent = (...offers: Offer[]) => ({ type: 'OFFERS', offers: { offers } });

function updateEvent(taskId: string, uuid: string) {
  const status: TaskStatus = {
    task_id: { value: taskId },
    state: 'TASK_RUNNING',
    source: 'SOURCE_EXECUTOR',
    agent_id: { value: 'agent-1' },
    uuid,
  };
  return { type: 'UPDATE', update: { status } };
}

interface DeclineBody {
  decline: { offer_ids: { value: string }[]; filters?: { refuse_seconds?: number } };
}
interface AcceptBody {
  accept: {
    offer_ids: { value: string }[];
    operations: { launch?: { task_infos: { task_id: { value: string } }[] } }[];
  };
}

const launchedTaskIds = (master: FakeMaster) =>
  master
    .calls<AcceptBody>('ACCEPT')
    .flatMap((call) => call.accept.operations)
    .flatMap((operation) => operation.launch?.task_infos ?? [])
    .map((info) => info.task_id.value);

const stops: (() => Promise<void>)[] = [];

/** A leading runner subscribed to `master`, and every status update it reports. */
async function startRunner(master: FakeMaster) {
  const controller = new AbortController();
  const term: LeadershipTerm = { epoch: 1, signal: controller.signal };
  const runner = new MesosRunner(options(master.url), election(term), memoryState(), NO_SECRETS);
  const updates: TaskStatusUpdate[] = [];
  runner.onUpdate((update) => updates.push(update));
  runner.onModuleInit();
  stops.push(async () => {
    controller.abort();
    await master.close();
    await runner.onApplicationShutdown();
  });
  await waitFor(() => runner.isSubscribed(), 'SUBSCRIBED');
  return { runner, updates };
}

/** A runner that has taken in the answer to its SUPPRESS at SUBSCRIBED (nothing waits). */
async function startSuppressed(master: FakeMaster) {
  const started = await startRunner(master);
  // Events are handled in order: once this one is reported, SUBSCRIBED's handling is over.
  const barrier = { task_id: { value: 'g:p:barrier:1' }, state: 'TASK_LOST' };
  master.send({ type: 'UPDATE', update: { status: barrier } });
  await waitFor(() => started.updates.length === 1, 'the barrier update');
  started.updates.length = 0;
  expect(master.calls('SUPPRESS')).toHaveLength(1);
  return started;
}

beforeAll(() => Logger.overrideLogger(false));
afterAll(() => Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']));
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('MesosRunner status updates', () => {
  it('reads the next event while an ACKNOWLEDGE is unanswered, so OFFERS are not held up', async () => {
    const master = await FakeMaster.start();
    const { runner, updates } = await startSuppressed(master);
    await runner.launch(run('a', 1));
    master.hold('ACKNOWLEDGE');

    master.send(updateEvent('g:p:other:1', 'dXVpZC0x'), offersEvent(offer('o1', 2)));

    await waitFor(
      () => launchedTaskIds(master).includes('g:p:a:1') && master.inFlightOf('ACKNOWLEDGE') === 1,
      'the ACCEPT of the offer while the ACKNOWLEDGE is unanswered',
    );
    expect(master.indexOf('< ACKNOWLEDGE')).toBe(-1);
    await waitFor(() => updates.length === 2, 'the Staging report');
    expect(updates.map((u) => [u.taskId, u.state])).toEqual([
      ['g:p:other:1', 'Running'],
      ['g:p:a:1', 'Staging'],
    ]);
  });

  it('hands a burst of updates over in stream order, with a bounded number of ACKNOWLEDGEs in flight', async () => {
    const master = await FakeMaster.start();
    const { updates } = await startSuppressed(master);
    master.hold('ACKNOWLEDGE');
    const count = 3 * MAX_ACKNOWLEDGEMENTS_IN_FLIGHT;
    const uuids = Array.from({ length: count }, (_, i) =>
      Buffer.from(`uuid-${i}`).toString('base64'),
    );
    // Two updates per task: their order is what the scheduler relies on.
    const taskOf = (i: number) => `g:p:t${Math.floor(i / 2)}:1`;
    master.send(...uuids.map((uuid, i) => updateEvent(taskOf(i), uuid)));

    await waitFor(() => updates.length === count, 'every update handed over');
    expect(updates.map((u) => u.taskId)).toEqual(uuids.map((_, i) => taskOf(i)));
    await waitFor(
      () => master.inFlightOf('ACKNOWLEDGE') === MAX_ACKNOWLEDGEMENTS_IN_FLIGHT,
      'the first ACKNOWLEDGEs',
    );
    master.release('ACKNOWLEDGE');
    await waitFor(
      () => master.calls('ACKNOWLEDGE').length === count && master.inFlightOf('ACKNOWLEDGE') === 0,
      'every update acknowledged',
    );
    const acked = master
      .calls<{ acknowledge: { uuid: string } }>('ACKNOWLEDGE')
      .map((call) => call.acknowledge.uuid);
    expect([...acked].sort()).toEqual([...uuids].sort());
    expect(master.peakOf('ACKNOWLEDGE')).toBe(MAX_ACKNOWLEDGEMENTS_IN_FLIGHT);
  });
});

describe('MesosRunner offer state', () => {
  it('sends one REVIVE for a burst of launches made while it is in flight', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    master.hold('REVIVE');

    const launches = Array.from({ length: 30 }, (_, i) => runner.launch(run(`r${i}`, 0.1)));
    await waitFor(() => master.inFlightOf('REVIVE') === 1, 'a REVIVE');
    master.release('REVIVE');
    await Promise.all(launches);

    expect(master.calls('REVIVE')).toHaveLength(1);
    master.send(offersEvent(offer('o1', 4)));
    await waitFor(() => launchedTaskIds(master).length === 30, 'every run launched');
  });

  it('REVIVEs again on the next launch after a REVIVE failed', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    master.failNext('REVIVE');

    await runner.launch(run('a', 1));
    await runner.launch(run('b', 1));

    expect(master.calls('REVIVE')).toHaveLength(2);
    expect(master.inFlightOf('REVIVE')).toBe(0);
  });

  it('REVIVEs once a SUPPRESS that was in flight when a run was queued is answered', async () => {
    const master = await FakeMaster.start();
    master.hold('SUPPRESS');
    const { runner } = await startRunner(master);
    await waitFor(() => master.inFlightOf('SUPPRESS') === 1, 'the SUPPRESS at SUBSCRIBED');

    const launched = runner.launch(run('a', 1));
    await new Promise((resolve) => setImmediate(resolve)); // the run is queued
    master.release('SUPPRESS');
    await launched;

    await waitFor(() => master.calls('REVIVE').length === 1, 'a REVIVE');
    expect(master.indexOf('< SUPPRESS')).toBeLessThan(master.indexOf('> REVIVE'));
    master.send(offersEvent(offer('o1', 2)));
    await waitFor(() => launchedTaskIds(master).includes('g:p:a:1'), 'the run launched');
  });

  it('REVIVEs when a run arrives after offers were declined with the idle filter', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    await runner.launch(run('a', 1));
    master.hold('DECLINE');

    // o1 takes the only run; o2 is left over with nothing waiting.
    master.send(offersEvent(offer('o1', 1), offer('o2', 1)));
    await waitFor(() => master.inFlightOf('DECLINE') === 1, 'the DECLINE of o2');
    const late = runner.launch(run('b', 1));
    await new Promise((resolve) => setImmediate(resolve)); // the run is queued
    master.release('DECLINE');
    await late;

    await waitFor(() => master.calls('REVIVE').length === 2, 'a REVIVE after the DECLINE');
    const [decline] = master.calls<DeclineBody>('DECLINE');
    expect(decline.decline.offer_ids).toEqual([{ value: 'o2' }]);
    expect(decline.decline.filters?.refuse_seconds).toBe(DEFAULT_MESOS_TUNING.idleRefuseSeconds);
    // The REVIVE clears the DECLINE's filter only if the master had it first.
    expect(master.indexOf('< DECLINE')).toBeLessThan(master.indexOf('> REVIVE', 1));
    master.send(offersEvent(offer('o3', 1)));
    await waitFor(() => launchedTaskIds(master).includes('g:p:b:1'), 'the late run launched');
  });

  it('gives a run queued while the ACCEPTs are answered an offer of the same event that took nothing', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    await runner.launch(run('a', 1));
    master.hold('ACCEPT');

    master.send(offersEvent(offer('o1', 1), offer('o2', 1)));
    await waitFor(() => master.inFlightOf('ACCEPT') === 1, 'the ACCEPT of o1');
    const late = runner.launch(run('b', 1));
    await new Promise((resolve) => setImmediate(resolve)); // the run is queued
    master.release('ACCEPT');
    await late;

    await waitFor(() => launchedTaskIds(master).includes('g:p:b:1'), 'the ACCEPT of o2');
    const accepts = master.calls<AcceptBody>('ACCEPT');
    expect(accepts.map((call) => call.accept.offer_ids.map((id) => id.value))).toEqual([
      ['o1'],
      ['o2'],
    ]);
    expect(master.calls('DECLINE')).toHaveLength(0);
  });

  it('declines with the short filter when a run arrives while the offers are being used', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    await runner.launch(run('a', 1));
    master.hold('ACCEPT');

    master.send(offersEvent(offer('o1', 1), offer('o2', 1), offer('o3', 1)));
    await waitFor(() => master.inFlightOf('ACCEPT') === 1, 'the ACCEPT of o1');
    const late = runner.launch(run('huge', 64)); // fits none of them
    await new Promise((resolve) => setImmediate(resolve)); // the run is queued
    master.release('ACCEPT');
    await late;

    await waitFor(
      () => master.calls('DECLINE').length > 0 && master.inFlightOf('DECLINE') === 0,
      'the DECLINEs',
    );
    const declines = master.calls<DeclineBody>('DECLINE');
    expect(declines.flatMap((d) => d.decline.offer_ids.map((id) => id.value)).sort()).toEqual([
      'o2',
      'o3',
    ]);
    for (const decline of declines) {
      expect(decline.decline.filters?.refuse_seconds).toBe(
        DEFAULT_MESOS_TUNING.declineRefuseSeconds,
      );
    }
    expect(master.calls('SUPPRESS')).toHaveLength(1); // the one at SUBSCRIBED
  });

  it('declines left-over offers with the short filter when a run comes before they are declined', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    master.hold('REVIVE');
    const first = runner.launch(run('a', 1));
    await waitFor(() => master.inFlightOf('REVIVE') === 1, 'the REVIVE');

    // o1 takes the run; o2 waits to be declined until the REVIVE is answered.
    master.send(offersEvent(offer('o1', 1), offer('o2', 1)));
    await waitFor(() => launchedTaskIds(master).includes('g:p:a:1'), 'the ACCEPT of o1');
    const late = runner.launch(run('huge', 64));
    await new Promise((resolve) => setImmediate(resolve)); // the run is queued
    master.release('REVIVE');
    await Promise.all([first, late]);

    await waitFor(
      () => master.inFlightOf('DECLINE') === 0 && master.calls('DECLINE').length > 0,
      'the DECLINE',
    );
    const declines = master.calls<DeclineBody>('DECLINE');
    expect(declines).toHaveLength(1);
    expect(declines[0].decline).toEqual({
      offer_ids: [{ value: 'o2' }],
      filters: { refuse_seconds: DEFAULT_MESOS_TUNING.declineRefuseSeconds },
    });
    expect(master.calls('SUPPRESS')).toHaveLength(1); // the one at SUBSCRIBED
    expect(master.calls('REVIVE')).toHaveLength(1);
  });

  it('declines with the idle filter and SUPPRESSes once the queue is empty', async () => {
    const master = await FakeMaster.start();
    const { runner } = await startSuppressed(master);
    await runner.launch(run('a', 1));

    master.send(offersEvent(offer('o1', 1), offer('o2', 1)));

    await waitFor(() => master.calls('SUPPRESS').length === 2, 'a SUPPRESS');
    const declines = master.calls<DeclineBody>('DECLINE');
    expect(declines).toHaveLength(1);
    expect(declines[0].decline.filters?.refuse_seconds).toBe(
      DEFAULT_MESOS_TUNING.idleRefuseSeconds,
    );
    expect(master.indexOf('< DECLINE')).toBeLessThan(master.indexOf('> SUPPRESS', 1));
    expect(master.calls('REVIVE')).toHaveLength(1);
  });
});
