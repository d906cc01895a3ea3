import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameworkInfo } from '../../infrastructure/wire/mesos-messages';
import { MesosSimulator } from './mesos-simulator';
import { SchedulerProbe, commandTask, launchCall, post } from './scheduler-probe';

const FRAMEWORK: FrameworkInfo = { user: 'tester', name: 'agent-spec', failover_timeout: 60 };
const JSON_HEADERS = { 'Content-Type': 'application/json' };

describe('agent API', () => {
  let sim: MesosSimulator;
  let probe: SchedulerProbe;
  let agentUrl: string;
  let sandbox: string;

  const readFile = async (readFileCall: Record<string, unknown>) => {
    const answer = await post(
      `${agentUrl}/api/v1`,
      { type: 'READ_FILE', read_file: readFileCall },
      JSON_HEADERS,
    );
    if (answer.status !== 200) return { status: answer.status, body: answer.body };
    const json = JSON.parse(answer.body);
    return {
      status: answer.status,
      type: json.type,
      size: json.read_file.size,
      text: Buffer.from(json.read_file.data, 'base64').toString('utf8'),
    };
  };

  beforeAll(async () => {
    sim = await MesosSimulator.start({
      agents: [{ cpus: 1, mem: 512, disk: 0 }],
      allocationIntervalMs: 50,
      statusUpdateRetryMs: 100,
    });
    agentUrl = sim.agentUrls[0];
    probe = await SchedulerProbe.subscribe(String(sim.leaderUrl), FRAMEWORK);
    const [offer] = await probe.offers();
    const task = commandTask('out-1', offer, {
      value: 'printf "hello world"; echo "oops" >&2; echo "$MESOS_TASK_ID" > id.txt',
    });
    await probe.call(launchCall([offer], [task]));
    for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']) {
      await probe.acknowledge(await probe.update('out-1', state));
    }
    const found = sim.task('out-1')?.sandbox;
    // The specs below write next to the sandbox; never let them run anywhere else.
    if (typeof found !== 'string' || !found.includes('/slaves/')) {
      throw new Error(`no sandbox for out-1: ${String(found)}`);
    }
    sandbox = found;
  });

  afterAll(async () => {
    probe.close();
    await sim.stop();
  });

  const virtual = () => `/frameworks/${probe.frameworkId}/executors/out-1/runs/latest`;

  it('reads stdout and stderr through the virtual sandbox path', async () => {
    expect(await readFile({ path: `${virtual()}/stdout`, offset: 0 })).toEqual({
      status: 200,
      type: 'READ_FILE',
      size: 11,
      text: 'hello world',
    });
    expect((await readFile({ path: `${virtual()}/stderr`, offset: 0 })).text).toBe('oops\n');
    expect((await readFile({ path: `${virtual()}/id.txt`, offset: 0 })).text).toBe('out-1\n');
  });

  it('reads a window of the file and always reports the whole size', async () => {
    expect(await readFile({ path: `${virtual()}/stdout`, offset: 6, length: 3 })).toMatchObject({
      size: 11,
      text: 'wor',
    });
    expect(await readFile({ path: `${virtual()}/stdout`, offset: 20 })).toMatchObject({
      size: 11,
      text: '',
    });
    expect(await readFile({ path: `${virtual()}/stdout`, offset: 0, length: 0 })).toMatchObject({
      size: 11,
      text: '',
    });
  });

  it('reads through the real sandbox path as well', async () => {
    expect(sandbox).toContain(`/slaves/${sim.agents()[0].id}/frameworks/${probe.frameworkId}/`);
    expect((await readFile({ path: join(sandbox, 'stdout'), offset: 0 })).text).toBe('hello world');
  });

  it('answers 404 for a missing file and 400 for bad requests', async () => {
    expect(await readFile({ path: `${virtual()}/nothing`, offset: 0 })).toEqual({
      status: 404,
      body: '',
    });
    expect((await readFile({ path: '/somewhere/else', offset: 0 })).status).toBe(404);
    expect(await readFile({ path: virtual(), offset: 0 })).toEqual({
      status: 400,
      body: 'Cannot read a directory.\n',
    });
    expect(await readFile({ path: `${virtual()}/stdout`, offset: -1 })).toEqual({
      status: 400,
      body: 'Negative offset provided: -1.\n',
    });
    expect((await readFile({ path: `${virtual()}/stdout`, offset: 0, length: -5 })).status).toBe(
      400,
    );
    expect(await readFile({ path: `${virtual()}/stdout`, offset: 'abc' })).toEqual({
      status: 400,
      body: "Failed to convert JSON into Call protobuf: Not expecting a JSON string for field 'offset'",
    });
    expect(await readFile({ path: `${virtual()}/stdout` })).toEqual({
      status: 400,
      body: 'Failed to convert JSON into Call protobuf: Missing required fields: read_file.offset',
    });
  });

  it('does not follow a link out of the sandbox', async () => {
    const outside = join(sandbox, '..', '..', 'secret.txt');
    writeFileSync(outside, 'secret');
    mkdirSync(join(sandbox, 'sub'), { recursive: true });
    symlinkSync(outside, join(sandbox, 'sub', 'link'));
    const answer = await readFile({ path: `${virtual()}/sub/link`, offset: 0 });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatch(/is inaccessible/);
  });

  it('answers GET_HEALTH and GET_VERSION, and nothing it does not implement', async () => {
    const health = await post(`${agentUrl}/api/v1`, { type: 'GET_HEALTH' }, JSON_HEADERS);
    expect(JSON.parse(health.body)).toEqual({ type: 'GET_HEALTH', get_health: { healthy: true } });
    const version = await post(`${agentUrl}/api/v1`, { type: 'GET_VERSION' }, JSON_HEADERS);
    expect(JSON.parse(version.body).get_version.version_info.version).toBe('1.11.0');
    const containers = await post(`${agentUrl}/api/v1`, { type: 'GET_CONTAINERS' }, JSON_HEADERS);
    expect(containers.status).toBe(501);
    const noType = await post(`${agentUrl}/api/v1`, { type: 'GET_HEALTH' }, {});
    expect(noType.status).toBe(400);
  });
});
