import type {
  FrameworkInfo,
  GetTasksResponse,
  OperatorResponse,
} from '../../infrastructure/wire/mesos-messages';
import { MesosSimulator } from './mesos-simulator';
import { SchedulerProbe, commandTask, launchCall, post } from './scheduler-probe';

const FRAMEWORK: FrameworkInfo = {
  user: 'tester',
  name: 'operator-spec',
  failover_timeout: 60,
  capabilities: [{ type: 'MULTI_ROLE' }],
  roles: ['*'],
};

const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('operator API', () => {
  let sim: MesosSimulator;
  const probes: SchedulerProbe[] = [];
  const operator = async (body: unknown, url = String(sim.leaderUrl)) => {
    const answer = await post(`${url}/api/v1`, body, JSON_HEADERS);
    const json = answer.status === 200 && answer.body !== '' ? JSON.parse(answer.body) : undefined;
    return { ...answer, json };
  };

  beforeEach(async () => {
    sim = await MesosSimulator.start({
      masters: 2,
      agents: [
        { cpus: 2, mem: 2048, disk: 1000, attributes: { rack: 'r1' } },
        { cpus: 1, mem: 1024, disk: 0 },
      ],
      allocationIntervalMs: 50,
      statusUpdateRetryMs: 100,
    });
  });

  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.close();
    await sim.stop();
  });

  it('answers GET_HEALTH, GET_VERSION and GET_MASTER', async () => {
    expect((await operator({ type: 'GET_HEALTH' })).json).toEqual({
      type: 'GET_HEALTH',
      get_health: { healthy: true },
    });
    expect((await operator({ type: 'GET_VERSION' })).json.get_version.version_info.version).toBe(
      '1.11.0',
    );
    const master = (await operator({ type: 'GET_MASTER' })).json;
    expect(master.get_master.master_info).toMatchObject({
      id: sim.masterIds[0],
      pid: `master@127.0.0.1:${new URL(sim.masterUrls[0]).port}`,
      version: '1.11.0',
    });
    expect(master.get_master.elected_time).toBeGreaterThan(0);
  });

  it('lists agents with their resources and pid', async () => {
    const { json } = await operator({ type: 'GET_AGENTS' });
    expect(json.type).toBe('GET_AGENTS');
    const agents = (json as OperatorResponse).get_agents?.agents ?? [];
    expect(agents).toHaveLength(2);
    const port = Number(new URL(sim.agentUrls[0]).port);
    const first = agents.find((agent) => agent.agent_info.port === port);
    expect(first).toMatchObject({
      active: true,
      version: '1.11.0',
      pid: `slave(1)@127.0.0.1:${new URL(sim.agentUrls[0]).port}`,
      agent_info: {
        hostname: '127.0.0.1',
        id: { value: sim.agents()[0].id },
        attributes: [{ name: 'rack', type: 'TEXT', text: { value: 'r1' } }],
        resources: [
          { name: 'cpus', type: 'SCALAR', scalar: { value: 2 }, role: '*' },
          { name: 'mem', type: 'SCALAR', scalar: { value: 2048 }, role: '*' },
          { name: 'disk', type: 'SCALAR', scalar: { value: 1000 }, role: '*' },
        ],
      },
    });
    expect(first?.registered_time?.nanoseconds).toBeGreaterThan(1e18);
  });

  it('shows frameworks, tasks and the whole state as the master tracks them', async () => {
    const probe = await SchedulerProbe.subscribe(String(sim.leaderUrl), FRAMEWORK);
    probes.push(probe);
    const [offer] = await probe.offers();
    await probe.call(launchCall([offer], [commandTask('op-1', offer, { value: 'sleep 30' })]));
    await probe.acknowledge(await probe.update('op-1', 'TASK_STARTING'));
    await probe.update('op-1', 'TASK_RUNNING');

    const frameworks = (await operator({ type: 'GET_FRAMEWORKS' })).json.get_frameworks;
    expect(frameworks.frameworks).toHaveLength(1);
    expect(frameworks.frameworks[0]).toMatchObject({
      active: true,
      connected: true,
      recovered: false,
      framework_info: {
        user: 'tester',
        name: 'operator-spec',
        id: { value: probe.frameworkId },
        failover_timeout: 60,
        checkpoint: false,
        roles: ['*'],
      },
      allocated_resources: [
        { name: 'cpus', scalar: { value: 0.1 }, allocation_info: { role: '*' } },
        { name: 'mem', scalar: { value: 32 }, allocation_info: { role: '*' } },
      ],
    });
    expect(frameworks.completed_frameworks).toBeUndefined();

    const tasks = (await operator({ type: 'GET_TASKS' })).json.get_tasks;
    expect(tasks.tasks).toHaveLength(1);
    expect(tasks.tasks[0]).toMatchObject({
      name: 'task op-1',
      task_id: { value: 'op-1' },
      framework_id: { value: probe.frameworkId },
      agent_id: offer.agent_id,
      state: 'TASK_RUNNING',
      status_update_state: 'TASK_RUNNING',
      user: 'tester',
    });
    expect(tasks.tasks[0].executor_id).toBeUndefined();
    const statuses = (tasks as GetTasksResponse).tasks?.[0].statuses ?? [];
    expect(statuses.map((status) => status.state)).toEqual(['TASK_STARTING', 'TASK_RUNNING']);
    expect(tasks.completed_tasks).toBeUndefined();

    const state = (await operator({ type: 'GET_STATE' })).json.get_state;
    expect(state.get_tasks).toEqual(tasks);
    expect(state.get_frameworks.frameworks[0].framework_info.id.value).toBe(probe.frameworkId);
    expect(state.get_agents.agents).toHaveLength(2);

    const teardown = await operator({
      type: 'TEARDOWN',
      teardown: { framework_id: { value: probe.frameworkId } },
    });
    expect([teardown.status, teardown.body]).toEqual([200, '']);
    const after = (await operator({ type: 'GET_TASKS' })).json.get_tasks;
    expect(after.tasks).toBeUndefined();
    expect(after.completed_tasks[0]).toMatchObject({
      task_id: { value: 'op-1' },
      state: 'TASK_KILLED',
    });
    const completed = (await operator({ type: 'GET_FRAMEWORKS' })).json.get_frameworks;
    expect(completed.completed_frameworks[0].framework_info.id.value).toBe(probe.frameworkId);
  });

  it('is served by the leader only, and checks requests like the scheduler endpoint', async () => {
    const redirect = await post(
      `${sim.masterUrls[1]}/api/v1`,
      { type: 'GET_HEALTH' },
      JSON_HEADERS,
    );
    expect(redirect.status).toBe(307);
    expect(redirect.headers['location']).toBe(`//${new URL(sim.masterUrls[0]).host}/api/v1`);

    const noType = await operator({});
    expect([noType.status, noType.body]).toEqual([
      400,
      "Failed to validate master::Call: Expecting 'type' to be present",
    ]);
    const get = await post(`${String(sim.leaderUrl)}/api/v1`, '', {}, 'GET');
    expect(get.status).toBe(405);
    const unsupported = await operator({ type: 'GET_QUOTA' });
    expect(unsupported.status).toBe(501);
    expect((await post(`${String(sim.leaderUrl)}/nowhere`, '', JSON_HEADERS)).status).toBe(404);
  });
});
