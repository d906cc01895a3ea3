import { existsSync } from 'node:fs';
import type { FrameworkInfo, Offer, TaskStatus } from '../../infrastructure/wire/mesos-messages';
import { MesosSimulator } from './mesos-simulator';
import type { MesosSimulatorOptions } from './options';
import { SchedulerProbe, commandTask, launchCall } from './scheduler-probe';
import { isAlive } from '../../../../../test/support/process-alive';

const FRAMEWORK: FrameworkInfo = {
  user: 'tester',
  name: 'spec',
  failover_timeout: 60,
  capabilities: [{ type: 'MULTI_ROLE' }],
  roles: ['*'],
};

const ONE_AGENT = [{ cpus: 4, mem: 4096, disk: 20000 }];

describe('offers and tasks', () => {
  let sim: MesosSimulator;
  const probes: SchedulerProbe[] = [];

  const start = async (options: MesosSimulatorOptions = {}) => {
    sim = await MesosSimulator.start({
      agents: ONE_AGENT,
      allocationIntervalMs: 50,
      heartbeatIntervalSeconds: 5,
      statusUpdateRetryMs: 100,
      killGracePeriodMs: 500,
      ...options,
    });
  };
  const subscribe = async (info: FrameworkInfo = FRAMEWORK, baseUrl?: string) => {
    const probe = await SchedulerProbe.subscribe(baseUrl ?? String(sim.leaderUrl), info);
    probes.push(probe);
    await probe.next((event) => event.type === 'SUBSCRIBED');
    return probe;
  };
  /** Launches one task on the first offer and acknowledges STARTING and RUNNING. */
  const launchRunning = async (probe: SchedulerProbe, taskId: string, value: string) => {
    const [offer] = await probe.offers();
    expect(
      (await probe.call(launchCall([offer], [commandTask(taskId, offer, { value })]))).status,
    ).toBe(202);
    await probe.acknowledge(await probe.update(taskId, 'TASK_STARTING'));
    const running = await probe.update(taskId, 'TASK_RUNNING');
    await probe.acknowledge(running);
    return { offer, running };
  };

  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.close();
    await sim.stop();
  });

  it('offers each agent once, with the framework role, and a URL to the agent', async () => {
    await start({
      agents: [
        { cpus: 2, mem: 1024, disk: 0 },
        { cpus: 3, mem: 2048, disk: 500 },
      ],
    });
    const probe = await subscribe();
    const offers = await probe.offers();
    expect(offers).toHaveLength(2);
    const byCpus = offers.sort((a, b) => (a.resources?.length ?? 0) - (b.resources?.length ?? 0));
    expect(byCpus[0]).toMatchObject({
      framework_id: { value: probe.frameworkId },
      hostname: '127.0.0.1',
      url: { scheme: 'http', address: { ip: '127.0.0.1' }, path: '/slave(1)' },
      allocation_info: { role: '*' },
      resources: [
        {
          name: 'cpus',
          type: 'SCALAR',
          scalar: { value: 2 },
          role: '*',
          allocation_info: { role: '*' },
        },
        {
          name: 'mem',
          type: 'SCALAR',
          scalar: { value: 1024 },
          role: '*',
          allocation_info: { role: '*' },
        },
      ],
    });
    expect(byCpus[1].resources?.map((r) => [r.name, r.scalar?.value])).toEqual([
      ['cpus', 3],
      ['mem', 2048],
      ['disk', 500],
    ]);
    expect(offers[0].id.value).toMatch(new RegExp(`^${sim.masterIds[0]}-O\\d+$`));
    // Outstanding offers are not offered again.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe.events.filter((e) => e.type === 'OFFERS')).toHaveLength(1);
    expect(sim.offers()).toHaveLength(2);
  });

  it('runs a command and re-sends each update with its uuid until it is acknowledged', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const task = commandTask('echo-1', offer, { value: 'echo hello' }, { cpus: 0.5, mem: 64 });
    expect((await probe.call(launchCall([offer], [task]))).status).toBe(202);

    const starting = await probe.update('echo-1', 'TASK_STARTING');
    expect(starting).toMatchObject({
      source: 'SOURCE_EXECUTOR',
      agent_id: offer.agent_id,
      executor_id: { value: 'echo-1' },
    });
    expect(Buffer.from(String(starting.uuid), 'base64')).toHaveLength(16);
    expect(starting.timestamp).toBeCloseTo(Date.now() / 1000, -1);

    // Not acknowledged: the same update comes again, and nothing newer before it is acknowledged.
    const startingUpdates = () =>
      probe.events.filter((e) => e.update?.status.state === 'TASK_STARTING');
    await sim.waitFor(() => startingUpdates().length >= 3, 3000, 'retries');
    expect(new Set(startingUpdates().map((e) => e.update?.status.uuid))).toEqual(
      new Set([starting.uuid]),
    );
    expect(probe.events.some((e) => e.update?.status.state === 'TASK_RUNNING')).toBe(false);
    expect(sim.task('echo-1')?.state).toBe('TASK_FINISHED');

    await probe.acknowledge(starting);
    const running = await probe.update('echo-1', 'TASK_RUNNING');
    await probe.acknowledge(running);
    const finished = await probe.update('echo-1', 'TASK_FINISHED');
    expect(finished.message).toBe('Command exited with status 0');
    expect(finished.reason).toBeUndefined();
    await probe.acknowledge(finished);

    await sim.waitFor(() => sim.task('echo-1')?.completed, 2000, 'completion');
    expect(sim.task('echo-1')?.pendingUpdates).toEqual([]);
    const acked = new Set(sim.callsOfType('ACKNOWLEDGE').map((call) => call.body));
    const updates = sim.events.filter((e) => e.event.type === 'UPDATE');
    for (const { event } of updates) {
      const status = event.update?.status as TaskStatus;
      expect([...acked].some((body) => JSON.stringify(body).includes(String(status.uuid)))).toBe(
        true,
      );
    }
    expect(sim.agents()[0].used).toEqual([]);
  });

  it('reports a failing command as TASK_FAILED with its exit status', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const task = commandTask('fail-1', offer, { value: 'exit 3' });
    await probe.call(launchCall([offer], [task]));
    for (const state of ['TASK_STARTING', 'TASK_RUNNING']) {
      await probe.acknowledge(await probe.update('fail-1', state));
    }
    const failed = await probe.update('fail-1', 'TASK_FAILED');
    expect(failed).toMatchObject({
      message: 'Command exited with status 3',
      reason: 'REASON_COMMAND_EXECUTOR_FAILED',
      source: 'SOURCE_EXECUTOR',
    });
  });

  it('runs without a shell: value is the executable and arguments its argv', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const task = commandTask('argv-1', offer, {
      shell: false,
      value: '/bin/sh',
      arguments: ['sh', '-c', 'test "$0" = sh && test "$GREETING" = hi && exit 7'],
      environment: { variables: [{ name: 'GREETING', value: 'hi' }] },
    });
    await probe.call(launchCall([offer], [task]));
    for (const state of ['TASK_STARTING', 'TASK_RUNNING']) {
      await probe.acknowledge(await probe.update('argv-1', state));
    }
    expect((await probe.update('argv-1', 'TASK_FAILED')).message).toBe(
      'Command exited with status 7',
    );
  });

  it('kills a task: TASK_KILLING for frameworks that asked for it, then TASK_KILLED', async () => {
    await start();
    const probe = await subscribe({
      ...FRAMEWORK,
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'TASK_KILLING_STATE' }],
    });
    const { offer } = await launchRunning(probe, 'sleep-1', 'sleep 30');
    const from = probe.events.length;
    const kill = await probe.call({
      type: 'KILL',
      kill: { task_id: { value: 'sleep-1' }, agent_id: offer.agent_id },
    });
    expect(kill.status).toBe(202);
    await probe.acknowledge(await probe.update('sleep-1', 'TASK_KILLING', { from }));
    const killed = await probe.update('sleep-1', 'TASK_KILLED', { from });
    expect(killed).toMatchObject({
      message: 'Command terminated with signal Terminated',
      source: 'SOURCE_EXECUTOR',
    });
    await probe.acknowledge(killed);
    await sim.waitFor(() => sim.task('sleep-1')?.completed, 2000, 'completion');
  });

  it('fails a task whose process is killed from outside', async () => {
    await start();
    const probe = await subscribe();
    await launchRunning(probe, 'crash-1', 'sleep 30');
    expect(sim.signalTask('crash-1', 'SIGKILL')).toBe(true);
    const failed = await probe.update('crash-1', 'TASK_FAILED');
    expect(failed.message).toBe('Command terminated with signal Killed');
  });

  it('answers a KILL of an unknown task by reconciling it', async () => {
    await start();
    const probe = await subscribe();
    await probe.call({ type: 'KILL', kill: { task_id: { value: 'ghost' } } });
    const lost = await probe.update('ghost', 'TASK_LOST');
    expect(lost).toMatchObject({
      source: 'SOURCE_MASTER',
      reason: 'REASON_RECONCILIATION',
      message: 'Reconciliation: Task is unknown',
    });
    expect(lost.uuid).toBeUndefined();
  });

  it('loses the tasks of an invalid offer (TASK_DROPPED when partition aware)', async () => {
    await start();
    const plain = await subscribe();
    const [offer] = await plain.offers();
    const bogus: Offer = { ...offer, id: { value: 'no-such-offer' } };
    await plain.call(launchCall([bogus], [commandTask('lost-1', offer, { value: 'true' })]));
    const lost = await plain.update('lost-1', 'TASK_LOST');
    expect(lost).toMatchObject({
      source: 'SOURCE_MASTER',
      reason: 'REASON_INVALID_OFFERS',
      message: 'Task launched with invalid offers: Offer no-such-offer is no longer valid',
    });
    expect(lost.uuid).toBeUndefined();

    // A used offer is invalid too.
    await plain.call(launchCall([offer], [commandTask('used-1', offer, { value: 'sleep 5' })]));
    await plain.call(launchCall([offer], [commandTask('used-2', offer, { value: 'true' })]));
    expect((await plain.update('used-2', 'TASK_LOST')).reason).toBe('REASON_INVALID_OFFERS');

    const aware = await subscribe({
      ...FRAMEWORK,
      name: 'aware',
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    });
    await aware.call(launchCall([bogus], [commandTask('drop-1', offer, { value: 'true' })]));
    expect((await aware.update('drop-1', 'TASK_DROPPED')).reason).toBe('REASON_INVALID_OFFERS');
  });

  it('refuses tasks that do not fit the offer or reuse an id with TASK_ERROR', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const tooBig = commandTask('big-1', offer, { value: 'true' }, { cpus: 8 });
    const first = commandTask('dup', offer, { value: 'sleep 5' });
    const second = commandTask('dup', offer, { value: 'sleep 5' });
    await probe.call(launchCall([offer], [tooBig, first, second]));
    const error = await probe.update('big-1', 'TASK_ERROR');
    expect(error).toMatchObject({ source: 'SOURCE_MASTER', reason: 'REASON_TASK_INVALID' });
    expect(error.message).toBe(
      'Total resources cpus(allocated: *):8; mem(allocated: *):32 required by task and its ' +
        'executor is more than available cpus(allocated: *):4; mem(allocated: *):4096; disk(allocated: *):20000',
    );
    const duplicate = await probe.update('dup', 'TASK_ERROR');
    expect(duplicate.message).toBe('Task has duplicate ID: dup');
    await probe.update('dup', 'TASK_STARTING');
    expect(sim.tasks().map((task) => task.taskId)).toEqual(['dup']);
  });

  it('keeps declined resources from the framework for refuse_seconds', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const declinedAt = Date.now();
    const from = probe.events.length;
    await probe.call({
      type: 'DECLINE',
      decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0.5 } },
    });
    await probe.offers({ from, timeoutMs: 3000 });
    expect(Date.now() - declinedAt).toBeGreaterThanOrEqual(450);
    expect(sim.callsOfType('DECLINE')[0].body).toMatchObject({
      decline: { filters: { refuse_seconds: 0.5 } },
    });
  });

  it('applies the default 5 s filter to what an ACCEPT leaves unused, lifted by more resources', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const from = probe.events.length;
    const acceptedAt = Date.now();
    await probe.call(launchCall([offer], [commandTask('short-1', offer, { value: 'sleep 0.4' })]));
    for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']) {
      await probe.acknowledge(await probe.update('short-1', state, { from }));
    }
    // The 3.9 unused cpus stay refused while the task runs; once it ends the agent has more
    // than was refused, which lifts the filter well before 5 s.
    const [again] = await probe.offers({ from, timeoutMs: 2000 });
    expect(Date.now() - acceptedAt).toBeGreaterThanOrEqual(350);
    expect(Date.now() - acceptedAt).toBeLessThan(4000);
    expect(again.resources?.find((r) => r.name === 'cpus')?.scalar?.value).toBe(4);
  });

  it('stops offering on SUPPRESS and offers again on REVIVE', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    expect((await probe.call({ type: 'SUPPRESS' })).status).toBe(202);
    await probe.call({
      type: 'DECLINE',
      decline: { offer_ids: [offer.id], filters: { refuse_seconds: 0 } },
    });
    const from = probe.events.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(probe.events.slice(from).some((e) => e.type === 'OFFERS')).toBe(false);
    expect(sim.frameworks()[0].suppressedRoles).toEqual(['*']);

    expect((await probe.call({ type: 'REVIVE' })).status).toBe(202);
    await probe.offers({ from, timeoutMs: 1000 });
    expect(sim.callsOfType('SUPPRESS')).toHaveLength(1);
    expect(sim.callsOfType('REVIVE')).toHaveLength(1);
  });

  it('REVIVE clears refusal filters', async () => {
    await start();
    const probe = await subscribe();
    const [offer] = await probe.offers();
    await probe.call({
      type: 'DECLINE',
      decline: { offer_ids: [offer.id], filters: { refuse_seconds: 60 } },
    });
    const from = probe.events.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(probe.events.slice(from).some((e) => e.type === 'OFFERS')).toBe(false);
    await probe.call({ type: 'REVIVE' });
    await probe.offers({ from, timeoutMs: 1000 });
  });

  it('answers explicit and implicit reconciliation with the latest states, without uuids', async () => {
    await start();
    const probe = await subscribe();
    const { offer } = await launchRunning(probe, 'long-1', 'sleep 30');
    const from = probe.events.length;
    await probe.call({
      type: 'RECONCILE',
      reconcile: {
        tasks: [
          { task_id: { value: 'long-1' } },
          { task_id: { value: 'gone-1' }, agent_id: offer.agent_id },
          { task_id: { value: 'gone-2' } },
        ],
      },
    });
    const known = await probe.update('long-1', 'TASK_RUNNING', { from });
    expect(known).toMatchObject({ reason: 'REASON_RECONCILIATION', source: 'SOURCE_MASTER' });
    expect(known.uuid).toBeUndefined();
    expect((await probe.update('gone-1', 'TASK_LOST', { from })).message).toBe(
      'Reconciliation: Task is unknown to the agent',
    );
    expect((await probe.update('gone-2', 'TASK_LOST', { from })).reason).toBe(
      'REASON_RECONCILIATION',
    );

    const implicitFrom = probe.events.length;
    await probe.call({ type: 'RECONCILE', reconcile: {} });
    await probe.update('long-1', 'TASK_RUNNING', { from: implicitFrom });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const answers = probe.events.slice(implicitFrom).filter((e) => e.type === 'UPDATE');
    expect(answers).toHaveLength(1);
  });

  it('answers partition-aware frameworks with TASK_GONE and TASK_UNKNOWN', async () => {
    await start();
    const probe = await subscribe({
      ...FRAMEWORK,
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'PARTITION_AWARE' }],
    });
    const [offer] = await probe.offers();
    await probe.call({
      type: 'RECONCILE',
      reconcile: {
        tasks: [{ task_id: { value: 'a' }, agent_id: offer.agent_id }, { task_id: { value: 'b' } }],
      },
    });
    await probe.update('a', 'TASK_GONE');
    await probe.update('b', 'TASK_UNKNOWN');
  });

  it('rescinds offers on request and after the offer timeout', async () => {
    await start({ offerTimeoutMs: 300 });
    const probe = await subscribe();
    const [offer] = await probe.offers();
    expect(sim.rescindOffers()).toEqual([offer.id.value]);
    const rescind = await probe.next((e) => e.type === 'RESCIND');
    expect(rescind.rescind?.offer_id).toEqual(offer.id);
    await probe.call(launchCall([offer], [commandTask('late-1', offer, { value: 'true' })]));
    expect((await probe.update('late-1', 'TASK_LOST')).reason).toBe('REASON_INVALID_OFFERS');

    const [next] = await probe.offers({ from: probe.events.indexOf(rescind) + 1 });
    const timedOut = await probe.next(
      (e) => e.type === 'RESCIND' && e.rescind?.offer_id.value === next.id.value,
      { timeoutMs: 2000 },
    );
    expect(timedOut.rescind?.offer_id).toEqual(next.id);
  });

  it('offers statically reserved resources only to their role', async () => {
    await start({
      agents: [{ cpus: 4, mem: 1024, disk: 0, reservations: [{ role: 'eng', cpus: 1, mem: 256 }] }],
    });
    const eng = await subscribe({
      ...FRAMEWORK,
      roles: ['eng'],
      capabilities: [{ type: 'MULTI_ROLE' }, { type: 'RESERVATION_REFINEMENT' }],
    });
    const [offer] = await eng.offers();
    expect(offer.allocation_info).toEqual({ role: 'eng' });
    expect(offer.resources).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 3 }, allocation_info: { role: 'eng' } },
      {
        name: 'cpus',
        type: 'SCALAR',
        scalar: { value: 1 },
        allocation_info: { role: 'eng' },
        reservations: [{ type: 'STATIC', role: 'eng' }],
      },
      { name: 'mem', type: 'SCALAR', scalar: { value: 768 }, allocation_info: { role: 'eng' } },
      {
        name: 'mem',
        type: 'SCALAR',
        scalar: { value: 256 },
        allocation_info: { role: 'eng' },
        reservations: [{ type: 'STATIC', role: 'eng' }],
      },
    ]);
    // The reserved cpus can be used by a task of the role.
    const reserved = {
      ...commandTask('res-1', offer, { value: 'true' }, { cpus: 1, mem: 256 }),
    };
    reserved.resources = reserved.resources?.map((r) => ({
      ...r,
      reservations: [{ type: 'STATIC' as const, role: 'eng' }],
    }));
    await eng.call(launchCall([offer], [reserved]));
    await eng.update('res-1', 'TASK_STARTING');
  });

  it('does not offer resources reserved for another role', async () => {
    await start({
      agents: [{ cpus: 4, mem: 1024, disk: 0, reservations: [{ role: 'eng', cpus: 1, mem: 256 }] }],
    });
    const probe = await subscribe({ user: 'u', name: 'single-role' });
    const [offer] = await probe.offers();
    expect(offer.allocation_info).toBeUndefined();
    expect(offer.resources).toEqual([
      { name: 'cpus', type: 'SCALAR', scalar: { value: 3 }, role: '*' },
      { name: 'mem', type: 'SCALAR', scalar: { value: 768 }, role: '*' },
    ]);
  });

  it('holds updates while the framework is disconnected and delivers them when it is back', async () => {
    await start({ statusUpdateRetryMs: 60_000 });
    const probe = await subscribe();
    await launchRunning(probe, 'later-1', 'sleep 0.2');
    sim.dropStreams();
    await sim.waitFor(() => sim.task('later-1')?.state === 'TASK_FINISHED', 3000, 'finish');
    expect(probe.events.some((e) => e.update?.status.state === 'TASK_FINISHED')).toBe(false);

    const again = await subscribe({ ...FRAMEWORK, id: { value: probe.frameworkId } });
    // Far sooner than the 60 s retry: re-subscribing makes the agent re-send at once.
    const finished = await again.update('later-1', 'TASK_FINISHED', { timeoutMs: 2000 });
    await again.acknowledge(finished);
    await sim.waitFor(() => sim.task('later-1')?.completed, 2000, 'completion');
  });

  it('keeps tasks through a master failover; the new leader reconciles and kills them', async () => {
    await start({ masters: 2 });
    const probe = await subscribe();
    await launchRunning(probe, 'survivor', 'sleep 30');
    await sim.failover(1);
    expect(await probe.closed()).toBe('aborted');

    const again = await subscribe(
      { ...FRAMEWORK, id: { value: probe.frameworkId } },
      sim.masterUrls[1],
    );
    const [offer] = await again.offers();
    expect(offer.id.value.startsWith(`${sim.masterIds[1]}-O`)).toBe(true);
    // The running task still holds its resources.
    expect(offer.resources?.find((r) => r.name === 'cpus')?.scalar?.value).toBeCloseTo(3.9);

    await again.call({
      type: 'RECONCILE',
      reconcile: { tasks: [{ task_id: { value: 'survivor' } }] },
    });
    expect((await again.update('survivor', 'TASK_RUNNING')).reason).toBe('REASON_RECONCILIATION');
    await again.call({ type: 'KILL', kill: { task_id: { value: 'survivor' } } });
    await again.update('survivor', 'TASK_KILLED');
  });

  it('kills the tasks of a framework that tears down', async () => {
    await start();
    const probe = await subscribe();
    await launchRunning(probe, 'doomed', 'sleep 30');
    const pid = sim.task('doomed')?.pid;
    expect(pid).toBeGreaterThan(0);
    await probe.call({ type: 'TEARDOWN' });
    await sim.waitFor(() => sim.task('doomed')?.state === 'TASK_KILLED', 2000, 'kill');
    await sim.waitFor(() => !isAlive(Number(pid)), 3000, 'process exit');
  });

  it('finishes tasks without processes with the instant runner', async () => {
    await start({ taskRunner: 'instant', instantTaskDurationMs: 5 });
    const probe = await subscribe();
    const [offer] = await probe.offers();
    const tasks = Array.from({ length: 20 }, (_, i) =>
      commandTask(`instant-${i}`, offer, { value: 'ignored' }, { cpus: 0.1, mem: 10 }),
    );
    await probe.call(launchCall([offer], tasks));
    const acknowledgeAll = async () => {
      for (const event of probe.events) {
        const status = event.update?.status;
        if (status?.uuid !== undefined && !acknowledged.has(status.uuid)) {
          acknowledged.add(status.uuid);
          await probe.acknowledge(status);
        }
      }
    };
    const acknowledged = new Set<string>();
    await sim.waitFor(
      () => {
        void acknowledgeAll();
        return sim.tasks().filter((t) => t.completed && t.state === 'TASK_FINISHED').length === 20;
      },
      5000,
      'all instant tasks',
    );
    expect(sim.tasks().every((task) => task.sandbox === null)).toBe(true);
  });
});

describe('stopping the simulator', () => {
  it.each(['process', 'instant'] as const)(
    'kills running %s tasks and removes its own work dir',
    async (taskRunner) => {
      const sim = await MesosSimulator.start({
        agents: ONE_AGENT,
        allocationIntervalMs: 50,
        taskRunner,
        instantTaskDurationMs: 60_000,
      });
      const probe = await SchedulerProbe.subscribe(String(sim.leaderUrl), FRAMEWORK);
      const [offer] = await probe.offers();
      await probe.call(launchCall([offer], [commandTask('forever', offer, { value: 'sleep 30' })]));
      await probe.acknowledge(await probe.update('forever', 'TASK_STARTING'));
      await probe.update('forever', 'TASK_RUNNING');
      const pid = sim.task('forever')?.pid;
      expect(existsSync(sim.workDir)).toBe(true);

      await sim.stop();
      expect(existsSync(sim.workDir)).toBe(false);
      expect(await probe.closed()).toBe('aborted');
      if (taskRunner === 'process') expect(isAlive(Number(pid))).toBe(false);
      else expect(pid).toBeUndefined();
      await sim.stop(); // idempotent
    },
  );
});
