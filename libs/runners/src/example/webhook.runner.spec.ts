import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Injectable, Module } from '@nestjs/common';
import { freePort } from '../../../../test/support/free-port';
import type { JobId } from '@rhythm/jobs';
import { newTaskId, type TaskStatusUpdate } from '@rhythm/scheduling';
import { InProcessActionRunner } from '../action/in-process-action.runner';
import { RhythmRunner } from '../registry/rhythm-runner.decorator';
import {
  CONFORMANCE_SPEC,
  createRunnerTestModule,
  describeRunnerConformance,
  type RunnerTestModule,
} from '../testing';
import { WebhookRunnerModule } from './webhook-runner.module';
import { WebhookRunner } from './webhook.runner';

const JOB: JobId = { group: 'grp', project: 'proj', id: 'hook' };

interface SeenCall {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** A local endpoint: `/status/<code>` answers that code, `/hang` never answers. */
class HookServer {
  readonly calls: SeenCall[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      this.calls.push({
        method: req.method ?? '',
        url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (url.startsWith('/hang')) return;
      const status = Number(/^\/status\/(\d{3})/.exec(url)?.[1] ?? 200);
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 204 ? undefined : 'answer');
    });
  });

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(pathname: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${pathname}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe(WebhookRunner.name, () => {
  let hooks: HookServer;
  let app: RunnerTestModule;
  let runner: WebhookRunner;
  const updates = new Map<string, TaskStatusUpdate[]>();

  beforeAll(async () => {
    hooks = await new HookServer().start();
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-webhook-'));
    app = await createRunnerTestModule(WebhookRunnerModule.forRoot({ logDir }));
    runner = app.module.get(WebhookRunner);
    runner.onUpdate((update) =>
      updates.set(update.taskId, [...(updates.get(update.taskId) ?? []), update]),
    );
  });

  afterAll(async () => {
    await app.close();
    await hooks.close();
  });

  async function run(
    options: Record<string, unknown>,
  ): Promise<TaskStatusUpdate & { log: string }> {
    const taskId = newTaskId(JOB);
    await runner.launch({
      taskId,
      jobId: JOB,
      spec: CONFORMANCE_SPEC,
      scheduledAt: new Date(),
      attempt: 1,
      options,
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const end = updates.get(taskId)?.find((update) => update.state !== 'Running');
      if (end) {
        const log = (await runner.readLogs(taskId, 'stdout'))?.data ?? '';
        return { ...end, log };
      }
      if (Date.now() > deadline) throw new Error('the webhook run did not end');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('registers through its module: the registry has the kind and validates its options', () => {
    expect(app.registry.get('webhook')).toBe(runner);
    expect(app.registry.all().map((each) => each.kind)).toEqual(
      expect.arrayContaining(['local', 'webhook']),
    );
    expect(
      app.registry.validate('webhook', { URL: 'https://example.com/x', method: 'PUT' }),
    ).toEqual({ ok: true, options: { url: 'https://example.com/x', method: 'PUT' } });
    expect(
      app.registry.validate('webhook', {
        url: 'ftp://example.com',
        headers: { 'X-Count': 3 },
        expectStatus: 99,
      }),
    ).toEqual({
      ok: false,
      problems: [
        'runner.url: must be an http(s) URL',
        'runner.headers: must be an object of header names to string values',
        'runner.expectStatus: must be an HTTP status (100-599)',
      ],
    });
  });

  it('calls the URL with the method, headers and body, and records the status code', async () => {
    const end = await run({
      url: hooks.url('/status/201?token=s3cret'),
      method: 'PUT',
      headers: { 'X-Trace': 'abc' },
      body: '{"job":"nightly"}',
    });

    expect(end).toMatchObject({ state: 'Finished', message: 'HTTP 201' });
    expect(hooks.calls.at(-1)).toMatchObject({
      method: 'PUT',
      url: '/status/201?token=s3cret',
      body: '{"job":"nightly"}',
      headers: expect.objectContaining({ 'x-trace': 'abc' }),
    });
    expect(end.log).toContain(`PUT ${hooks.url('/status/201')}?… → 201 Created (6 bytes)`);
    expect(end.log).not.toContain('s3cret');
  });

  it('fails on a status other than the expected one', async () => {
    const server = await run({ url: hooks.url('/status/503') });
    expect(server).toMatchObject({
      state: 'Failed',
      message: 'HTTP 503, expected 2xx',
      reason: 'HTTP_STATUS',
    });
    expect(server.log).toContain('→ 503 Service Unavailable');

    const exact = await run({ url: hooks.url('/status/200'), expectStatus: 204 });
    expect(exact).toMatchObject({ state: 'Failed', message: 'HTTP 200, expected 204' });
    expect(await run({ url: hooks.url('/status/204'), expectStatus: 204 })).toMatchObject({
      state: 'Finished',
      message: 'HTTP 204',
    });
  });

  it('fails with the cause when the URL cannot be reached', async () => {
    const port = await freePort();
    const end = await run({ url: `http://127.0.0.1:${port}/unreachable`, method: 'GET' });
    expect(end.state).toBe('Failed');
    expect(end.reason).toBe('HTTP_ERROR');
    expect(end.message).toMatch(`/unreachable failed: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});

describe('WebhookRunner: request timeout', () => {
  it('fails a call that takes longer than requestTimeoutMs', async () => {
    const hooks = await new HookServer().start();
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-webhook-timeout-'));
    const runner = new WebhookRunner({ logDir, requestTimeoutMs: 50 });
    const ended = new Promise<TaskStatusUpdate>((resolve) =>
      runner.onUpdate((update) => update.state !== 'Running' && resolve(update)),
    );
    try {
      await runner.launch({
        taskId: newTaskId(JOB),
        jobId: JOB,
        spec: CONFORMANCE_SPEC,
        scheduledAt: new Date(),
        attempt: 1,
        options: { url: hooks.url('/hang') },
      });
      expect(await ended).toMatchObject({
        state: 'Failed',
        reason: 'HTTP_ERROR',
        message: expect.stringContaining('timeout'),
      });
    } finally {
      await runner.close();
      await hooks.close();
      fs.rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe('WebhookRunner: conformance', () => {
  let hooks: HookServer;
  describeRunnerConformance('webhook', async () => {
    hooks = await new HookServer().start();
    const app = await createRunnerTestModule(
      WebhookRunnerModule.forRoot({ logDir: fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-wh-')) }),
    );
    return {
      runner: app.module.get(WebhookRunner),
      succeedingLaunch: () => ({ options: { url: hooks.url('/status/200') } }),
      failingLaunch: () => ({ options: { url: hooks.url('/status/500') } }),
      slowLaunch: () => ({ options: { url: hooks.url('/hang') } }),
      cleanup: async () => {
        await app.close();
        await hooks.close();
      },
    };
  });
});

/** A second runner claiming the webhook kind, as a careless plugin might. */
@RhythmRunner({ kind: 'webhook' })
@Injectable()
class AnotherWebhookRunner extends InProcessActionRunner {
  constructor() {
    super({ logDir: os.tmpdir() });
  }

  protected async perform(): Promise<void> {}
}

@Module({
  imports: [WebhookRunnerModule.forRoot({ logDir: os.tmpdir() })],
  providers: [AnotherWebhookRunner],
})
class TwoWebhooksModule {}

describe('createRunnerTestModule', () => {
  it('fails the boot of an app with two runners of the same kind, naming both', async () => {
    await expect(createRunnerTestModule(TwoWebhooksModule)).rejects.toThrow(
      /^Two runners declare the kind "webhook": (WebhookRunner and AnotherWebhookRunner|AnotherWebhookRunner and WebhookRunner); each kind may be registered once$/,
    );
  });

  it('registers a bare @RhythmRunner class given instead of a module', async () => {
    const app = await createRunnerTestModule(AnotherWebhookRunner);
    try {
      expect(app.registry.get('webhook')).toBeInstanceOf(AnotherWebhookRunner);
      expect(app.registry.validate('webhook', { url: 'https://example.com' })).toEqual({
        ok: false,
        problems: ['runner.url: is not an option of this runner'],
      });
    } finally {
      await app.close();
    }
  });
});
