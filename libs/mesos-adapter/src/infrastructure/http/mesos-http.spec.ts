import { getEventListeners, getMaxListeners } from 'node:events';
import {
  baseUrlOf,
  describeUrl,
  endpointUrl,
  MesosAbortedError,
  MesosConnectionError,
  MesosHttp,
  MesosHttpError,
  resolveRedirect,
} from './mesos-http';
import { refusedUrl, ScriptedServer, waitFor } from './testing/scripted-server';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './testing/test-tls';

describe('resolveRedirect', () => {
  const current = new URL('https://m1.example:5050/api/v1/scheduler');

  it('keeps our scheme for the scheme-relative Location the master sends', () => {
    const target = resolveRedirect(
      current,
      '//m2.example:5050/api/v1/scheduler',
      '/api/v1/scheduler',
    );
    expect(target.href).toBe('https://m2.example:5050/api/v1/scheduler');
  });

  it('reads a bare host:port (as in the docs) as the leader, keeping the endpoint path', () => {
    const target = resolveRedirect(current, 'm3.example:5050', '/api/v1/scheduler');
    expect(target.href).toBe('https://m3.example:5050/api/v1/scheduler');
  });

  it('takes an absolute Location as it is', () => {
    const target = resolveRedirect(current, 'http://m4.example:6060/api/v1', '/api/v1');
    expect(target.href).toBe('http://m4.example:6060/api/v1');
  });
});

describe('URL helpers', () => {
  it('joins a base URL with or without a trailing slash or prefix', () => {
    expect(endpointUrl('http://h:5050/', '/api/v1').href).toBe('http://h:5050/api/v1');
    expect(endpointUrl('http://h:5050/mesos', '/api/v1').href).toBe('http://h:5050/mesos/api/v1');
    expect(() => endpointUrl('ftp://h', '/api/v1')).toThrow(TypeError);
  });

  it('derives the base URL back from an endpoint URL', () => {
    expect(baseUrlOf(new URL('http://h:5050/mesos/api/v1'), '/api/v1')).toBe('http://h:5050/mesos');
    expect(baseUrlOf(new URL('http://h:5050/api/v1/scheduler'), '/api/v1/scheduler')).toBe(
      'http://h:5050',
    );
  });

  it('never puts user-info (a password) into messages', () => {
    expect(describeUrl('http://user:hunter2@h:5050/api/v1')).toBe('http://h:5050/api/v1');
  });
});

describe('MesosHttp', () => {
  const servers: ScriptedServer[] = [];
  let transport: MesosHttp;

  const serve = async (handler: Parameters<typeof ScriptedServer.start>[0]) => {
    const server = await ScriptedServer.start(handler);
    servers.push(server);
    return server;
  };

  afterEach(async () => {
    transport?.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('POSTs JSON with content negotiation headers and HTTP Basic credentials', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end('{"type":"GET_HEALTH","get_health":{"healthy":true}}');
    });
    transport = new MesosHttp({ credentials: { principal: 'rhythm', secret: 's3cr3t' } });

    const answer = await transport.postJson({
      baseUrl: server.url,
      path: '/api/v1',
      body: { type: 'GET_HEALTH' },
    });

    expect(JSON.parse(answer.body.toString())).toEqual({
      type: 'GET_HEALTH',
      get_health: { healthy: true },
    });
    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/api/v1');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from('rhythm:s3cr3t').toString('base64')}`,
    );
    expect(request.json).toEqual({ type: 'GET_HEALTH' });
  });

  it('follows a scheme-relative 307 to the leader and reports the leader base URL', async () => {
    const leader = await serve((_request, response) => {
      response.writeHead(202);
      response.end();
    });
    const standby = await serve((request, response) => {
      response.writeHead(307, { Location: `//127.0.0.1:${leader.port}${request.path}` });
      response.end();
    });
    transport = new MesosHttp();

    const answer = await transport.postJson(
      { baseUrl: standby.url, path: '/api/v1/scheduler', body: { type: 'REVIVE' } },
      202,
    );

    expect(answer.baseUrl).toBe(leader.url);
    expect(leader.requests).toHaveLength(1);
    expect(leader.requests[0].json).toEqual({ type: 'REVIVE' });
  });

  it('gives up after too many redirects', async () => {
    const loop = await serve((request, response) => {
      response.writeHead(307, { Location: request.path });
      response.end();
    });
    transport = new MesosHttp({ maxRedirects: 2 });

    await expect(
      transport.postJson({ baseUrl: loop.url, path: '/api/v1', body: {} }),
    ).rejects.toMatchObject({ name: 'MesosHttpError', status: 307 });
    expect(loop.requests).toHaveLength(3);
  });

  it('turns an unexpected status into MesosHttpError with the master error text', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(403, { 'Content-Type': 'text/plain' });
      response.end('Framework is not subscribed\n');
    });
    transport = new MesosHttp({ credentials: { principal: 'rhythm', secret: 'never-shown' } });

    const error = await transport
      .postJson({ baseUrl: server.url, path: '/api/v1/scheduler', body: {} }, 202)
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MesosHttpError);
    expect((error as MesosHttpError).status).toBe(403);
    expect((error as MesosHttpError).body).toBe('Framework is not subscribed');
    expect((error as Error).message).toContain('Framework is not subscribed');
    expect((error as Error).message).not.toContain('never-shown');
  });

  it('rejects a 200 when 202 was expected', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200);
      response.end();
    });
    transport = new MesosHttp();

    await expect(
      transport.postJson({ baseUrl: server.url, path: '/api/v1/scheduler', body: {} }, 202),
    ).rejects.toMatchObject({ status: 200 });
  });

  it('reports a refused connection as MesosConnectionError', async () => {
    transport = new MesosHttp();
    await expect(
      transport.postJson({ baseUrl: await refusedUrl(), path: '/api/v1', body: {} }),
    ).rejects.toBeInstanceOf(MesosConnectionError);
  });

  it('times out a master that does not answer', async () => {
    const silent = await serve(() => undefined);
    transport = new MesosHttp({ requestTimeoutMs: 50 });

    const error = await transport
      .postJson({ baseUrl: silent.url, path: '/api/v1', body: {} })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MesosConnectionError);
    expect((error as Error).message).toContain('did not answer within 50 ms');
  });

  it('rejects with MesosAbortedError when the caller aborts', async () => {
    const silent = await serve(() => undefined);
    transport = new MesosHttp();
    const controller = new AbortController();

    const pending = transport.postJson({
      baseUrl: silent.url,
      path: '/api/v1',
      body: {},
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 20);

    await expect(pending).rejects.toBeInstanceOf(MesosAbortedError);
  });

  it('adds one abort listener to a signal shared by many requests in flight, and aborts them all', async () => {
    const silent = await serve(() => undefined);
    transport = new MesosHttp();
    const controller = new AbortController();
    const requests = 3 * getMaxListeners(controller.signal);

    const pending = Array.from({ length: requests }, () =>
      transport
        .postJson({ baseUrl: silent.url, path: '/api/v1', body: {}, signal: controller.signal })
        .catch((caught: unknown) => caught),
    );
    await waitFor(() => silent.requests.length === requests, 'every request at the server');

    // Node warns of a leak past its limit (10), and a burst of scheduler calls shares one signal.
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    for (const error of await Promise.all(pending)) expect(error).toBeInstanceOf(MesosAbortedError);
  });

  it('opens a stream on its own connection and leaves its body unread', async () => {
    const server = await serve((request, response) => {
      if (request.json?.type === 'SUBSCRIBE') {
        response.writeHead(200, { 'Mesos-Stream-Id': 'stream-1' });
        response.write('partial');
      } else {
        response.writeHead(202);
        response.end();
      }
    });
    transport = new MesosHttp();

    const stream = await transport.openStream({
      baseUrl: server.url,
      path: '/api/v1/scheduler',
      body: { type: 'SUBSCRIBE' },
    });
    await transport.postJson(
      { baseUrl: server.url, path: '/api/v1/scheduler', body: { type: 'REVIVE' } },
      202,
    );

    expect(stream.response.headers['mesos-stream-id']).toBe('stream-1');
    expect(server.requests[0].headers.connection).toBe('keep-alive');
    expect(stream.baseUrl).toBe(server.url);
    expect(server.requests[0].remotePort).not.toBe(server.requests[1].remotePort);
    stream.close();
    await server.requests[0].closed;
  });

  it('trusts the configured CA for calls and streams, and nothing else by default', async () => {
    const server = await ScriptedServer.start(
      (request, response) => {
        response.writeHead(request.json?.type === 'SUBSCRIBE' ? 200 : 202);
        response.end();
      },
      { cert: TEST_TLS_CERT, key: TEST_TLS_KEY },
    );
    servers.push(server);
    transport = new MesosHttp({ ca: Buffer.from(TEST_TLS_CERT) });
    const untrusting = new MesosHttp();

    const call = await transport.postJson(
      { baseUrl: server.url, path: '/api/v1/scheduler', body: { type: 'REVIVE' } },
      202,
    );
    const stream = await transport.openStream({
      baseUrl: server.url,
      path: '/api/v1/scheduler',
      body: { type: 'SUBSCRIBE' },
    });
    stream.close();
    const refused = await untrusting
      .postJson({ baseUrl: server.url, path: '/api/v1', body: {} })
      .catch((caught: unknown) => caught);
    untrusting.close();

    expect(server.url.startsWith('https://')).toBe(true);
    expect(call.status).toBe(202);
    expect(stream.response.statusCode).toBe(200);
    expect(refused).toBeInstanceOf(MesosConnectionError);
  });

  it('refuses a stream whose SUBSCRIBE is answered with an error status', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(400);
      response.end("Subscribe calls should not include the 'Mesos-Stream-Id' header");
    });
    transport = new MesosHttp();

    await expect(
      transport.openStream({ baseUrl: server.url, path: '/api/v1/scheduler', body: {} }),
    ).rejects.toMatchObject({ status: 400, body: expect.stringContaining('Mesos-Stream-Id') });
  });
});
