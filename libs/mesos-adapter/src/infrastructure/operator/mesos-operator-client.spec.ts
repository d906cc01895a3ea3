import { MesosConnectionError, MesosHttpError } from '../http/mesos-http';
import { type RecordedRequest, refusedUrl, ScriptedServer } from '../http/testing/scripted-server';
import type { OperatorAgent } from '../wire/mesos-messages';
import { MesosOperatorClient, MesosProtocolError, sandboxPath } from './mesos-operator-client';

const servers: ScriptedServer[] = [];
const clients: MesosOperatorClient[] = [];

/** Answers each operator call with `answers[type]` as JSON (404 for an unscripted type). */
async function scriptedMaster(answers: Record<string, unknown>): Promise<ScriptedServer> {
  const server = await ScriptedServer.start((request: RecordedRequest, response) => {
    const answer = answers[request.json?.type as string];
    if (answer === undefined) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(answer));
  });
  servers.push(server);
  return server;
}

function newClient(options: ConstructorParameters<typeof MesosOperatorClient>[0]) {
  const client = new MesosOperatorClient(options);
  clients.push(client);
  return client;
}

afterEach(async () => {
  clients.splice(0).forEach((client) => client.close());
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('MesosOperatorClient master calls', () => {
  it('POSTs each GET_* call to /api/v1 and returns its answer', async () => {
    const agent: OperatorAgent = {
      agent_info: { hostname: 'agent-1', port: 5051, id: { value: 'a-1' } },
      active: true,
      version: '1.11.0',
      pid: 'slave(1)@10.0.0.2:5051',
    };
    const master = await scriptedMaster({
      GET_HEALTH: { type: 'GET_HEALTH', get_health: { healthy: true } },
      GET_VERSION: {
        type: 'GET_VERSION',
        get_version: { version_info: { version: '1.11.0', git_sha: 'abc' } },
      },
      GET_MASTER: {
        type: 'GET_MASTER',
        get_master: { master_info: { id: 'm', ip: 1, port: 5050 }, elected_time: 1.5 },
      },
      GET_AGENTS: { type: 'GET_AGENTS', get_agents: { agents: [agent] } },
      GET_TASKS: {
        type: 'GET_TASKS',
        get_tasks: {
          tasks: [
            {
              name: 't',
              task_id: { value: 't-1' },
              framework_id: { value: 'fw' },
              agent_id: { value: 'a-1' },
              state: 'TASK_RUNNING',
            },
          ],
        },
      },
      GET_FRAMEWORKS: { type: 'GET_FRAMEWORKS' },
      GET_STATE: { type: 'GET_STATE', get_state: { get_agents: { agents: [agent] } } },
    });
    const client = newClient({ masters: [master.url] });

    expect(await client.getHealth()).toEqual({ healthy: true });
    expect(await client.getVersion()).toEqual({ version: '1.11.0', git_sha: 'abc' });
    expect((await client.getMaster()).elected_time).toBe(1.5);
    expect(await client.getAgents()).toEqual({ agents: [agent] });
    expect((await client.getTasks()).tasks?.[0].state).toBe('TASK_RUNNING');
    expect(await client.getFrameworks()).toEqual({}); // an all-empty answer may omit the body
    expect((await client.getState()).get_agents?.agents).toHaveLength(1);

    expect(master.requests.map((request) => [request.path, request.json])).toEqual([
      ['/api/v1', { type: 'GET_HEALTH' }],
      ['/api/v1', { type: 'GET_VERSION' }],
      ['/api/v1', { type: 'GET_MASTER' }],
      ['/api/v1', { type: 'GET_AGENTS' }],
      ['/api/v1', { type: 'GET_TASKS' }],
      ['/api/v1', { type: 'GET_FRAMEWORKS' }],
      ['/api/v1', { type: 'GET_STATE' }],
    ]);
    expect(master.requests[0].headers['content-type']).toBe('application/json');
    expect(master.requests[0].headers.accept).toBe('application/json');
  });

  it('follows a scheme-relative 307 to the leading master', async () => {
    const leader = await scriptedMaster({
      GET_HEALTH: { type: 'GET_HEALTH', get_health: { healthy: true } },
    });
    const standby = await ScriptedServer.start((request, response) => {
      response.writeHead(307, { Location: `//127.0.0.1:${leader.port}${request.path}` });
      response.end();
    });
    servers.push(standby);
    const client = newClient({ masters: [standby.url] });

    expect(await client.getHealth()).toEqual({ healthy: true });
    expect(leader.requests).toHaveLength(1);
  });

  it('tries the next master on connection refused or 503, and starts there next time', async () => {
    const noLeader = await ScriptedServer.start((_request, response) => {
      response.writeHead(503);
      response.end('No leader elected');
    });
    servers.push(noLeader);
    const leader = await scriptedMaster({
      GET_HEALTH: { type: 'GET_HEALTH', get_health: { healthy: true } },
    });
    const client = newClient({ masters: [await refusedUrl(), noLeader.url, leader.url] });

    await client.getHealth();
    await client.getHealth();

    expect(noLeader.requests).toHaveLength(1);
    expect(leader.requests).toHaveLength(2);
  });

  it('rejects with the last error when no master answers', async () => {
    const client = newClient({ masters: [await refusedUrl(), await refusedUrl()] });
    await expect(client.getHealth()).rejects.toBeInstanceOf(MesosConnectionError);
  });

  it('does not try another master after a 4xx', async () => {
    const forbidding = await ScriptedServer.start((_request, response) => {
      response.writeHead(403);
      response.end('Unauthorized to GET_TASKS');
    });
    servers.push(forbidding);
    const other = await scriptedMaster({ GET_TASKS: { type: 'GET_TASKS', get_tasks: {} } });
    const client = newClient({ masters: [forbidding.url, other.url] });

    await expect(client.getTasks()).rejects.toMatchObject({
      name: 'MesosHttpError',
      status: 403,
      body: 'Unauthorized to GET_TASKS',
    });
    expect(other.requests).toHaveLength(0);
  });

  it('sends HTTP Basic credentials', async () => {
    const master = await scriptedMaster({
      GET_HEALTH: { type: 'GET_HEALTH', get_health: { healthy: true } },
    });
    const client = newClient({
      masters: [master.url],
      credentials: { principal: 'ops', secret: 'x' },
    });

    await client.getHealth();

    expect(master.requests[0].headers.authorization).toBe(
      `Basic ${Buffer.from('ops:x').toString('base64')}`,
    );
  });

  it('rejects an answer that lacks the expected field', async () => {
    const master = await scriptedMaster({ GET_HEALTH: { type: 'GET_HEALTH' } });
    const client = newClient({ masters: [master.url] });
    await expect(client.getHealth()).rejects.toBeInstanceOf(MesosProtocolError);
  });
});

describe('MesosOperatorClient agent files', () => {
  it('reads a sandbox file through the agent READ_FILE call', async () => {
    const agent = await scriptedMaster({
      READ_FILE: {
        type: 'READ_FILE',
        read_file: { size: 1234, data: Buffer.from('hello\n').toString('base64') },
      },
    });
    const client = newClient({ masters: ['http://127.0.0.1:1'] });
    const path = sandboxPath('fw-1', 'g:p:j:1', 'stdout');

    const chunk = await client.readFile(agent.url, path, 100, 6);

    expect(chunk).toEqual({ size: 1234, data: Buffer.from('hello\n') });
    expect(agent.requests[0].path).toBe('/api/v1');
    expect(agent.requests[0].json).toEqual({
      type: 'READ_FILE',
      read_file: {
        path: '/frameworks/fw-1/executors/g:p:j:1/runs/latest/stdout',
        offset: 100,
        length: 6,
      },
    });
  });

  it('returns null for a file the agent does not have (404)', async () => {
    const agent = await scriptedMaster({});
    const client = newClient({ masters: ['http://127.0.0.1:1'] });
    expect(await client.readFile(agent.url, sandboxPath('f', 'e', 'stderr'), 0, 10)).toBeNull();
  });

  it('rejects other agent errors', async () => {
    const agent = await ScriptedServer.start((_request, response) => {
      response.writeHead(400);
      response.end('Negative offset provided');
    });
    servers.push(agent);
    const client = newClient({ masters: ['http://127.0.0.1:1'] });

    const error = await client.readFile(agent.url, '/x', -1, 10).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MesosHttpError);
    expect(error).toMatchObject({ status: 400, body: 'Negative offset provided' });
  });

  it('builds agent URLs from the pid, else from hostname and port, in the masters scheme', () => {
    const plain = newClient({ masters: ['http://m:5050'] });
    const tls = newClient({ masters: ['https://m:5050'] });
    const listed: OperatorAgent = {
      agent_info: { hostname: 'agent-1.example', port: 5051 },
      active: true,
      version: '1.11.0',
      pid: 'slave(1)@10.0.0.2:5052',
    };

    expect(plain.agentUrl(listed)).toBe('http://10.0.0.2:5052');
    expect(plain.agentUrl({ ...listed, pid: undefined })).toBe('http://agent-1.example:5051');
    expect(tls.agentUrl({ hostname: 'agent-2.example' })).toBe('https://agent-2.example:5051');
    expect(plain.agentUrl({ hostname: 'fd00::2', port: 5060 })).toBe('http://[fd00::2]:5060');
  });

  it('builds the virtual sandbox path of a command task', () => {
    expect(sandboxPath('fw', 'exec', 'stderr')).toBe(
      '/frameworks/fw/executors/exec/runs/latest/stderr',
    );
  });
});
