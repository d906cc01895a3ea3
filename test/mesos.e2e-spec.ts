import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { App } from 'supertest/types';
import { MesosSimulator } from '../libs/mesos-adapter/src/testing/simulator';
import { createApp } from '../apps/api/src/create-app';
import type { MesosConfig } from '../apps/api/src/config/mesos-config';
import { FakeVault } from './support/fake-vault';
import { RedisServer } from './support/redis-server';
import { testConfig } from './support/test-app';
import { waitFor } from './support/wait-for';

interface TaskBody {
  TaskID: string;
  State: string;
  Runner: string;
  AgentID: string;
  FrameworkID: string;
  ExecutorID: string;
  ExecutorURL: string;
  Message: string;
  ExitCode: number | null;
}

interface LaunchBody {
  accept?: { operations?: Array<{ launch?: { task_infos: Array<Record<string, unknown>> } }> };
}

interface DeclineBody {
  decline?: { filters?: { refuse_seconds?: number } };
}

const SCHEDULE = { cron: '0 0 1 1 *' }; // once a year: only run-now starts runs here

function mesosConfig(masters: string[]): MesosConfig {
  return {
    masters,
    user: '',
    roles: ['*'],
    principal: 'rhythm-test',
    basicAuth: null,
    failoverTimeoutSeconds: 3600,
    checkpoint: false,
    webuiUrl: '',
    hostname: '',
    labels: { suite: 'e2e' },
    caCertFile: '',
  };
}

describe('command jobs on a Mesos cluster (simulated master and agents)', () => {
  let cluster: MesosSimulator;
  let app: INestApplication;
  let http: App;
  let dataDir: string;
  let vault: FakeVault;

  beforeAll(async () => {
    vault = await FakeVault.start({ token: 'vault-token', mounts: { secret: 2 } });
    cluster = await MesosSimulator.start({
      masters: 2,
      agents: [
        { cpus: 2, mem: 1024, disk: 1000 },
        { cpus: 2, mem: 1024, disk: 1000 },
      ],
      allocationIntervalMs: 100,
      heartbeatIntervalSeconds: 1,
      statusUpdateRetryMs: 300,
      killGracePeriodMs: 200,
    });
    dataDir = mkdtempSync(join(tmpdir(), 'rhythm-mesos-e2e-'));
    const base = testConfig({ kind: 'embedded', dataDir });
    const secrets = {
      backend: 'vault',
      addr: vault.url,
      token: 'vault-token',
      root: 'secret/rhythm/',
      kvVersion: 2,
      timeoutMs: 2000,
    } as const;
    app = await createApp({ ...base, secrets, mesos: mesosConfig(cluster.masterUrls) }, false);
    http = app.getHttpServer() as App;
    await waitFor(() => cluster.frameworks().some((f) => f.connected), 'a subscription');
  });

  afterAll(async () => {
    await app?.close();
    await cluster?.stop();
    await vault?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function createJob(id: string, fields: Record<string, unknown>): Promise<void> {
    const response = await request(http)
      .post('/api/v1/jobs')
      .send({
        group: 'g',
        project: 'p',
        id,
        schedule: SCHEDULE,
        cpus: 0.5,
        mem: 64,
        container: { docker: { image: 'alpine:3.8' } },
        ...fields,
      });
    expect(response.status).toBe(204);
  }

  async function runAndWait(id: string): Promise<TaskBody> {
    await request(http).post(`/api/v1/jobs/g/p/${id}/run`).expect(204);
    const tasks = await waitFor(async () => {
      const body = (await request(http).get(`/api/v1/jobs/g/p/${id}/tasks`)).body as TaskBody[];
      return body.length > 0 && body;
    }, `a task record of ${id}`);
    return tasks[0];
  }

  function launchedTaskInfo(taskId: string): Record<string, unknown> {
    for (const call of cluster.callsOfType('ACCEPT')) {
      for (const operation of (call.body as LaunchBody).accept?.operations ?? []) {
        const info = operation.launch?.task_infos.find(
          (candidate) => (candidate.task_id as { value: string }).value === taskId,
        );
        if (info) return info;
      }
    }
    throw new Error(`no LAUNCH of ${taskId}`);
  }

  it('runs a job end to end and records it with its Mesos IDs', async () => {
    await createJob('hello', { cmd: 'echo "hello from $RHYTHM_TASK_ID"' });
    const task = await runAndWait('hello');
    const frameworkId = cluster.frameworks()[0]?.id;
    expect(task).toMatchObject({ State: 'Finished', Runner: 'mesos', ExitCode: 0, Message: '' });
    expect(task.FrameworkID).toBe(frameworkId);
    expect(task.ExecutorID).toBe(task.TaskID);
    expect(task.TaskID).toMatch(/^g:p:hello:[0-9a-f-]{36}$/);
    expect(task.ExecutorURL).toBe(
      `${cluster.leaderUrl}/#/agents/${task.AgentID}/frameworks/${frameworkId}/executors/${task.TaskID}`,
    );
    const logs = await request(http).get(`/api/v1/jobs/g/p/hello/tasks/${task.TaskID}/logs`);
    expect(logs.status).toBe(200);
    expect(JSON.stringify(logs.body)).toContain(`hello from ${task.TaskID}`);
  });

  it('acknowledges every status update that carries a uuid', async () => {
    await waitFor(() => {
      const updates = cluster.events.filter(
        (recorded) => recorded.event.type === 'UPDATE' && recorded.event.update?.status.uuid,
      );
      const acked = new Set(
        cluster
          .callsOfType('ACKNOWLEDGE')
          .filter((call) => call.status === 202)
          .map((call) => (call.body as { acknowledge: { uuid: string } }).acknowledge.uuid),
      );
      return (
        updates.length > 0 && updates.every((u) => acked.has(u.event.update?.status.uuid ?? ''))
      );
    }, 'every update acknowledged');
  });

  it('builds Docker and Mesos container TaskInfos with the job command, env and labels', async () => {
    await createJob('docker', {
      cmd: 'true',
      env: { FOO: 'bar' },
      labels: { team: 'infra' },
      container: { docker: { image: 'alpine:3.8', forcepullimage: true } },
    });
    await createJob('mesos', { cmd: 'true', container: { mesos: { image: 'busybox:1' } } });
    const docker = launchedTaskInfo((await runAndWait('docker')).TaskID);
    const mesos = launchedTaskInfo((await runAndWait('mesos')).TaskID);
    expect(docker.container).toEqual({
      type: 'DOCKER',
      docker: { image: 'alpine:3.8', force_pull_image: true },
    });
    expect(docker.labels).toEqual({ labels: [{ key: 'team', value: 'infra' }] });
    expect(JSON.stringify(docker.command)).toContain('{"name":"FOO","type":"VALUE","value":"bar"}');
    expect(JSON.stringify(docker.command)).toContain(
      '"name":"RHYTHM_CPU","type":"VALUE","value":"0.5"',
    );
    expect(mesos.container).toEqual({
      type: 'MESOS',
      mesos: { image: { type: 'DOCKER', docker: { name: 'busybox:1' } } },
    });
  });

  it('declines offers it has no use for with a refuse filter, and suppresses while idle', async () => {
    await waitFor(() => cluster.callsOfType('SUPPRESS').length > 0, 'a SUPPRESS');
    const declines = cluster.callsOfType('DECLINE');
    for (const decline of declines) {
      const body = decline.body as { decline: { filters?: { refuse_seconds?: number } } };
      expect(body.decline.filters?.refuse_seconds).toBeGreaterThan(0);
    }
  });

  it('keeps a run that fits no agent pending, and kills it from there on request', async () => {
    await createJob('huge', { cmd: 'true', cpus: 64 });
    await request(http).post('/api/v1/jobs/g/p/huge/run').expect(204);
    const taskId = await waitFor(
      async () => (await request(http).get('/api/v1/jobs/g/p/huge')).body.CurrentTaskID as string,
      'the run to be claimed',
    );
    // Offers keep coming (a REVIVE followed the launch) but none fits.
    const revivesBefore = cluster.callsOfType('REVIVE').length;
    expect(revivesBefore).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await request(http).get('/api/v1/jobs/g/p/huge')).body.State).toBe('Staging');
    expect(cluster.tasks().some((task) => task.taskId === taskId)).toBe(false);
    await request(http).post(`/api/v1/jobs/g/p/huge/tasks/${taskId}/kill`).expect(204);
    const tasks = await waitFor(async () => {
      const body = (await request(http).get('/api/v1/jobs/g/p/huge/tasks')).body as TaskBody[];
      return body.length > 0 && body;
    }, 'the killed run');
    expect(tasks[0]).toMatchObject({ TaskID: taskId, State: 'Killed' });
  });

  it('resubscribes with the same framework ID after a dropped stream and a master failover', async () => {
    const frameworkId = cluster.frameworks()[0]?.id;
    const subscribes = () => cluster.callsOfType('SUBSCRIBE').filter((c) => c.status === 200);
    const before = subscribes().length;
    cluster.dropStreams();
    await waitFor(() => subscribes().length > before, 'a resubscription');
    await cluster.failover(1);
    await waitFor(() => subscribes().some((c) => c.master === 1), 'a subscription to master 1');
    for (const call of subscribes().slice(before)) expect(call.frameworkId).toBe(frameworkId);
    expect(cluster.frameworks().map((f) => f.id)).toEqual([frameworkId]);
    // And it still runs jobs, through the new leader.
    await createJob('after-failover', { cmd: 'echo ok' });
    expect((await runAndWait('after-failover')).State).toBe('Finished');
  });

  it('gives a task its Vault secrets, and fails a run whose secret cannot be read', async () => {
    vault.put('secret/rhythm/g/p/db/password', { value: 's3cret' });
    await createJob('with-secret', {
      cmd: 'echo "password=$DB_PASSWORD"',
      secrets: { DB_PASSWORD: 'db/password' },
    });
    const task = await runAndWait('with-secret');
    expect(task.State).toBe('Finished');
    const logs = await request(http).get(`/api/v1/jobs/g/p/with-secret/tasks/${task.TaskID}/logs`);
    expect(JSON.stringify(logs.body)).toContain('password=s3cret');
    const job = await request(http).get('/api/v1/jobs/g/p/with-secret');
    expect(job.body.Secrets).toEqual({ DB_PASSWORD: 'db/password' });

    await createJob('missing-secret', { cmd: 'true', secrets: { TOKEN: 'api/token' } });
    const failed = await runAndWait('missing-secret');
    expect(failed).toMatchObject({ State: 'Failed', Runner: 'mesos' });
    expect(failed.Message).toMatch(
      /^Launch failed: Reading secret failed for TOKEN: secret not found: api\/token/,
    );
    expect(() => launchedTaskInfo(failed.TaskID)).toThrow('no LAUNCH');
  });

  it('launches normally after outstanding offers are rescinded', async () => {
    cluster.rescindOffers();
    await createJob('after-rescind', { cmd: 'true' });
    expect((await runAndWait('after-rescind')).State).toBe('Finished');
  });

  it('launches a burst of runs without a REVIVE storm', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `burst-${i}`);
    for (const id of ids) await createJob(id, { cmd: 'true', cpus: 0.1, mem: 16 });
    await waitFor(
      () => (cluster.frameworks()[0]?.suppressedRoles.length ?? 0) > 0,
      'offers suppressed while nothing waits',
    );
    const since = Math.max(...cluster.calls.map((call) => call.seq));

    await Promise.all(
      ids.map((id) => request(http).post(`/api/v1/jobs/g/p/${id}/run`).expect(204)),
    );
    for (const id of ids) {
      await waitFor(async () => {
        const body = (await request(http).get(`/api/v1/jobs/g/p/${id}/tasks`)).body as TaskBody[];
        return body.some((task) => task.State === 'Finished');
      }, `a finished run of ${id}`);
    }

    // The calls that change whether the master offers to us, in the order it received them.
    const steps = cluster.calls
      .filter((call) => call.seq > since)
      .flatMap((call) => {
        if (call.type === 'REVIVE' || call.type === 'SUPPRESS') return [call.type];
        const refuse = (call.body as DeclineBody).decline?.filters?.refuse_seconds;
        return call.type === 'DECLINE' && refuse === 3600 ? ['IDLE DECLINE'] : [];
      });
    expect(steps[0]).toBe('REVIVE');
    // Each REVIVE answers a SUPPRESS or an idle DECLINE: launches share the one in flight.
    expect(steps.join(', ')).not.toMatch(/REVIVE, REVIVE/);
  });

  it('reports the cluster through the Operator API', async () => {
    const response = await request(http).get('/api/v1/cluster');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      Healthy: true,
      Version: '1.11.0',
      Framework: { ID: cluster.frameworks()[0]?.id, Subscribed: true },
    });
    expect(response.body.Agents).toHaveLength(2);
    expect(response.body.Agents[0].Resources).toEqual({ CPUs: 2, Mem: 1024, Disk: 1000 });
  });
});

describe('a leader change of our own instances while a Mesos task runs', () => {
  let cluster: MesosSimulator;
  let redis: RedisServer;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    cluster = await MesosSimulator.start({
      agents: [{ cpus: 2, mem: 1024, disk: 1000 }],
      allocationIntervalMs: 100,
      heartbeatIntervalSeconds: 1,
      statusUpdateRetryMs: 300,
    });
    const storage = { kind: 'redis', url: redis.url, keyPrefix: `mesos${Date.now()}:` } as const;
    for (let i = 0; i < 2; i++) {
      const config = { ...testConfig(storage), mesos: mesosConfig(cluster.masterUrls) };
      apps.push(await createApp(config, false));
    }
  });

  afterAll(async () => {
    for (const app of apps) await app.close().catch(() => undefined);
    await cluster?.stop();
    await redis?.stop();
  });

  const health = async (app: INestApplication) =>
    (await request(app.getHttpServer() as App).get('/api/v1/health')).body as { Leader: boolean };

  it('the new leader adopts the running task through reconciliation and never launches it twice', async () => {
    const leader = await waitFor(async () => {
      for (const app of apps) if ((await health(app)).Leader) return app;
      return undefined;
    }, 'a leader');
    const follower = apps.find((app) => app !== leader) as INestApplication;
    await waitFor(() => cluster.frameworks().some((f) => f.connected), 'a subscription');
    const frameworkId = cluster.frameworks()[0]?.id;
    const http = follower.getHttpServer() as App; // any instance serves the API
    await request(http)
      .post('/api/v1/jobs')
      .send({
        group: 'g',
        project: 'p',
        id: 'long',
        schedule: SCHEDULE,
        cpus: 0.5,
        mem: 64,
        cmd: 'sleep 2',
        container: { docker: { image: 'alpine:3.8' } },
      })
      .expect(204);
    await request(http).post('/api/v1/jobs/g/p/long/run').expect(204);
    const taskId = await waitFor(async () => {
      const job = (await request(http).get('/api/v1/jobs/g/p/long')).body as {
        State: string;
        CurrentTaskID: string;
      };
      return job.State === 'Running' && job.CurrentTaskID;
    }, 'the task running');

    await leader.close(); // gives up the lock: the follower's term starts within the TTL
    const handedOverAt = Date.now();
    await waitFor(async () => (await health(follower)).Leader, 'the follower to lead');
    const tasks = await waitFor(async () => {
      const body = (await request(http).get('/api/v1/jobs/g/p/long/tasks')).body as TaskBody[];
      return body.length > 0 && body;
    }, 'the task record');

    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ TaskID: taskId, State: 'Finished', FrameworkID: frameworkId });
    const launches = cluster
      .callsOfType('ACCEPT')
      .flatMap((call) => (call.body as LaunchBody).accept?.operations ?? [])
      .flatMap((operation) => operation.launch?.task_infos ?? [])
      .filter((info) => (info.task_id as { value: string }).value.startsWith('g:p:long:'));
    expect(launches).toHaveLength(1);
    expect(cluster.frameworks().map((f) => f.id)).toEqual([frameworkId]);
    const reconciled = cluster
      .callsOfType('RECONCILE')
      .some((call) => call.at > handedOverAt && JSON.stringify(call.body).includes(taskId));
    expect(reconciled).toBe(true);
  });
});
