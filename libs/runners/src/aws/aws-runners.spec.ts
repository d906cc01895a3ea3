import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { JobId } from '@rhythm/jobs';
import { newTaskId, type Runner, type TaskStatusUpdate } from '@rhythm/scheduling';
import { FakeAws, type FakeAwsRequest } from '../../../../test/support/fake-aws';
import {
  CONFORMANCE_SPEC,
  createRunnerTestModule,
  describeRunnerConformance,
  type RunnerConformanceSubject,
  type RunnerTestModule,
} from '../testing';
import { AwsRunnersModule } from './aws-runners.module';
import type { AwsRunnersModuleOptions } from './aws-runners.options';
import { AwsEc2InstanceRunner } from './ec2-instance.runner';
import { AwsEcsServiceRunner } from './ecs-service.runner';
import { AwsEcsTaskRunner } from './ecs-task.runner';
import { AwsRdsInstanceRunner } from './rds-instance.runner';

const JOB: JobId = { group: 'ops', project: 'aws', id: 'job' };
const ROLE_ARN = 'arn:aws:iam::123456789012:role/rhythm-scheduler';
const BASE_KEY = 'AKIDBASEEXAMPLE';

/** The SDK's default chain reads these; the tests own them while they run. */
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: BASE_KEY,
  AWS_SECRET_ACCESS_KEY: 'base-secret',
  AWS_REGION: 'us-east-1',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

let instanceCounter = 0;
/** A fresh, valid-looking EC2 instance id. */
function instanceId(): string {
  instanceCounter += 1;
  return `i-${instanceCounter.toString(16).padStart(17, '0')}`;
}
let nameCounter = 0;
function uniqueName(prefix: string): string {
  nameCounter += 1;
  return `${prefix}-${nameCounter}`;
}

/** Boots AwsRunnersModule against a fake, and records every update of its runners. */
class AwsHarness {
  readonly updates = new Map<string, TaskStatusUpdate[]>();
  private savedEnv: Record<string, string | undefined> = {};

  private constructor(
    readonly fake: FakeAws,
    readonly app: RunnerTestModule,
    private readonly logDir: string,
  ) {}

  static async start(options: Partial<AwsRunnersModuleOptions> = {}): Promise<AwsHarness> {
    const saved = Object.fromEntries(
      [...Object.keys(AWS_ENV), 'AWS_ENDPOINT_URL'].map((key) => [key, process.env[key]]),
    );
    const fake = await FakeAws.start();
    Object.assign(process.env, AWS_ENV, { AWS_ENDPOINT_URL: fake.url });
    const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rhythm-aws-'));
    const app = await createRunnerTestModule(
      AwsRunnersModule.forRoot({
        logDir,
        pollIntervalMs: 10,
        defaultTimeoutSeconds: 5,
        retry: { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
        accounts: {
          Local: { endpoint: fake.url, region: 'eu-central-1' },
          Assumed: {
            endpoint: fake.url,
            region: 'eu-west-1',
            roleArn: ROLE_ARN,
            externalId: 'ext-4242',
          },
          Denied: { endpoint: fake.url, roleArn: 'arn:aws:iam::123456789012:role/nope' },
        },
        ...options,
      }),
    );
    const harness = new AwsHarness(fake, app, logDir);
    harness.savedEnv = saved;
    for (const runner of [
      AwsEc2InstanceRunner,
      AwsRdsInstanceRunner,
      AwsEcsServiceRunner,
      AwsEcsTaskRunner,
    ]) {
      app.module.get<Runner>(runner).onUpdate((update) => {
        harness.updates.set(update.taskId, [...(harness.updates.get(update.taskId) ?? []), update]);
      });
    }
    return harness;
  }

  get ec2(): AwsEc2InstanceRunner {
    return this.app.module.get(AwsEc2InstanceRunner);
  }

  get rds(): AwsRdsInstanceRunner {
    return this.app.module.get(AwsRdsInstanceRunner);
  }

  get ecsService(): AwsEcsServiceRunner {
    return this.app.module.get(AwsEcsServiceRunner);
  }

  get ecsTask(): AwsEcsTaskRunner {
    return this.app.module.get(AwsEcsTaskRunner);
  }

  async launch(runner: Runner, options: Record<string, unknown>): Promise<string> {
    const taskId = newTaskId(JOB);
    await runner.launch({
      taskId,
      jobId: JOB,
      spec: CONFORMANCE_SPEC,
      scheduledAt: new Date(),
      attempt: 1,
      options,
    });
    return taskId;
  }

  /** Launches, waits for the end; the terminal update, its states and its log. */
  async run(
    runner: Runner,
    options: Record<string, unknown>,
  ): Promise<TaskStatusUpdate & { states: string[]; log: string; taskId: string }> {
    const taskId = await this.launch(runner, options);
    return this.ended(runner, taskId);
  }

  async ended(
    runner: Runner,
    taskId: string,
  ): Promise<TaskStatusUpdate & { states: string[]; log: string; taskId: string }> {
    await until(`the end of ${taskId}`, () =>
      this.updates.get(taskId)?.some((update) => update.state !== 'Running'),
    );
    const seen = this.updates.get(taskId) ?? [];
    const log = (await runner.readLogs(taskId, 'stdout'))?.data ?? '';
    return { ...(seen.at(-1) as TaskStatusUpdate), states: seen.map((u) => u.state), log };
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.fake.close();
    fs.rmSync(this.logDir, { recursive: true, force: true });
    for (const [key, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function until(what: string, probe: () => boolean | undefined): Promise<void> {
  const deadline = Date.now() + 8000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The log without its timestamps. */
function lines(log: string): string[] {
  return log
    .trimEnd()
    .split('\n')
    .map((line) => line.replace(/^\S+Z /, ''));
}

function actions(requests: readonly FakeAwsRequest[]): string[] {
  return requests.map((request) => `${request.service}:${request.action}:${request.status}`);
}

describe('AWS runners', () => {
  let aws: AwsHarness;

  beforeAll(async () => {
    aws = await AwsHarness.start();
  });

  afterAll(async () => {
    await aws.close();
  });

  describe('registration', () => {
    it('registers the four kinds, whose options validate and name the failing field', () => {
      const kinds = aws.app.registry.all().map((runner) => runner.kind);
      expect(kinds).toEqual(
        expect.arrayContaining([
          'aws-ec2-instance',
          'aws-rds-instance',
          'aws-ecs-service',
          'aws-ecs-task',
        ]),
      );
      expect(
        aws.app.registry.validate('aws-ec2-instance', {
          ACTION: 'stop',
          instanceids: ['i-0123456789abcdef0'],
          Account: 'prod',
        }),
      ).toEqual({
        ok: true,
        options: { action: 'stop', instanceIds: ['i-0123456789abcdef0'], account: 'prod' },
      });
      expect(
        aws.app.registry.validate('aws-ec2-instance', { action: 'hibernate', instanceIds: [] }),
      ).toEqual({
        ok: false,
        problems: [
          'runner.action: must be one of start, stop, reboot',
          'runner.instanceIds: must not be empty',
        ],
      });
      expect(
        aws.app.registry.validate('aws-rds-instance', { action: 'start', timeoutSeconds: 0 }),
      ).toEqual({
        ok: false,
        problems: [
          'runner.dbInstanceIdentifier: is required',
          'runner.timeoutSeconds: must be at least 1',
        ],
      });
      expect(
        aws.app.registry.validate('aws-ecs-service', {
          cluster: 'prod',
          service: 'web',
          desiredCount: -1,
        }),
      ).toEqual({ ok: false, problems: ['runner.desiredCount: must be at least 0'] });
      expect(
        aws.app.registry.validate('aws-ecs-task', {
          cluster: 'prod',
          taskDefinition: 'report',
          launchType: 'LAMBDA',
          networkConfiguration: { awsvpcConfiguration: { subnets: [], assignpublicip: 'x' } },
        }),
      ).toEqual({
        ok: false,
        problems: [
          'runner.launchType: must be one of FARGATE, EC2',
          'runner.networkConfiguration.awsvpcConfiguration.assignpublicip: is not an option of this runner',
          'runner.networkConfiguration.awsvpcConfiguration.subnets: must not be empty',
        ],
      });
    });

    it('refuses a launch whose options do not validate, naming the field', async () => {
      await expect(
        aws.launch(aws.ec2, { action: 'start', instanceIds: ['web-1'] }),
      ).rejects.toThrow(
        'invalid options for the aws-ec2-instance runner: ' +
          'runner.instanceIds: must be instance ids such as i-0123456789abcdef0',
      );
    });

    it('refuses accounts that cannot work when the module is configured', () => {
      expect(() =>
        AwsRunnersModule.forRoot({ logDir: '/tmp', accounts: { a: { externalId: 'x' } } }),
      ).toThrow('AWS runners: account "a" has an externalId but no roleArn');
      expect(() =>
        AwsRunnersModule.forRoot({ logDir: '/tmp', accounts: { a: {}, A: {} } }),
      ).toThrow('AWS runners: two accounts are named "A" (names ignore case)');
      expect(() => AwsRunnersModule.forRoot({ logDir: '/tmp', pollIntervalMs: 0 })).toThrow(
        'AWS runners: pollIntervalMs must be a positive number, got 0',
      );
    });
  });

  describe('aws-ec2-instance', () => {
    it('starts an instance and waits over several polls until it is running', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopped', { pollsToSettle: 3 });

      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id], account: 'local' });

      expect(end).toMatchObject({ state: 'Finished', message: `${id} running`, source: 'RUNNER' });
      expect(end.states).toEqual(['Running', 'Finished']);
      expect(lines(end.log)).toEqual([
        'aws-ec2-instance: run started (attempt 1)',
        'using account Local (region eu-central-1, endpoint ' + aws.fake.url + ')',
        `StartInstances ${id} → pending (was stopped)`,
        `DescribeInstances ${id}: pending`,
        `DescribeInstances ${id}: pending`,
        `DescribeInstances ${id}: running`,
        `Finished: ${id} running`,
      ]);
      const calls = aws.fake.requests.filter((r) => r.params['InstanceId.1'] === id);
      expect(actions(calls)).toEqual([
        'ec2:StartInstances:200',
        'ec2:DescribeInstances:200',
        'ec2:DescribeInstances:200',
        'ec2:DescribeInstances:200',
      ]);
      expect(calls[0]).toMatchObject({ region: 'eu-central-1', accessKeyId: BASE_KEY });
      await expect(aws.ec2.readLogs(end.taskId, 'stderr')).resolves.toEqual({
        offset: 0,
        data: '',
        size: 0,
      });
    });

    it('stops several instances and waits until all are stopped', async () => {
      const [a, b] = [instanceId(), instanceId()];
      aws.fake.addInstance(a, 'running', { pollsToSettle: 1 });
      aws.fake.addInstance(b, 'running', { pollsToSettle: 2 });

      const end = await aws.run(aws.ec2, { action: 'stop', instanceIds: [a, b] });

      expect(end).toMatchObject({ state: 'Finished', message: `2 instances stopped: ${a}, ${b}` });
      expect(lines(end.log)).toEqual(
        expect.arrayContaining([
          `StopInstances ${a} → stopping (was running)`,
          `DescribeInstances ${a}: stopped, ${b}: stopping`,
          `DescribeInstances ${a}: stopped, ${b}: stopped`,
        ]),
      );
      expect([aws.fake.instanceState(a), aws.fake.instanceState(b)]).toEqual([
        'stopped',
        'stopped',
      ]);
    });

    it('reboots a running instance', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running');
      const end = await aws.run(aws.ec2, { action: 'reboot', instanceIds: [id] });
      expect(end).toMatchObject({ state: 'Finished', message: `${id} running` });
      expect(lines(end.log)).toContain(`RebootInstances ${id} → requested`);
    });

    it('retries throttling with backoff, then succeeds', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopped', { pollsToSettle: 1 });
      aws.fake.fail({
        service: 'ec2',
        action: 'StartInstances',
        status: 503,
        code: 'RequestLimitExceeded',
        times: 2,
      });

      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id] });

      expect(end).toMatchObject({ state: 'Finished', message: `${id} running` });
      expect(actions(aws.fake.requestsOf('ec2', 'StartInstances').slice(-3))).toEqual([
        'ec2:StartInstances:503',
        'ec2:StartInstances:503',
        'ec2:StartInstances:200',
      ]);
      expect(lines(end.log)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(
            /^StartInstances: RequestLimitExceeded \(HTTP 503\); retrying in \d+ ms \(attempt 2 of 4\)$/,
          ),
          expect.stringMatching(/\(attempt 3 of 4\)$/),
        ]),
      );
    });

    it('retries a 5xx answer while waiting, then succeeds', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopped', { pollsToSettle: 1 });
      aws.fake.fail({
        service: 'ec2',
        action: 'DescribeInstances',
        status: 500,
        code: 'InternalError',
      });

      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id] });

      expect(end.state).toBe('Finished');
      expect(lines(end.log)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^DescribeInstances: InternalError \(HTTP 500\); retrying in/),
        ]),
      );
    });

    it('fails once the retries are used up, with the code', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running');
      aws.fake.fail({ service: 'ec2', status: 503, code: 'Unavailable', times: 4 });

      const end = await aws.run(aws.ec2, { action: 'stop', instanceIds: [id] });

      expect(end).toMatchObject({
        state: 'Failed',
        message: 'StopInstances failed after 4 attempts: Unavailable: The server is overloaded',
        reason: 'AWS_ERROR',
      });
    });

    it('fails at once on access denied, with the AWS error code in the message', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running');
      aws.fake.fail({
        service: 'ec2',
        action: 'StopInstances',
        status: 403,
        code: 'UnauthorizedOperation',
      });
      const before = aws.fake.requestsOf('ec2', 'StopInstances').length;

      const end = await aws.run(aws.ec2, { action: 'stop', instanceIds: [id] });

      expect(end).toMatchObject({
        state: 'Failed',
        message:
          'StopInstances failed: UnauthorizedOperation: You are not authorized to perform this operation.',
        reason: 'AWS_ERROR',
      });
      expect(aws.fake.requestsOf('ec2', 'StopInstances')).toHaveLength(before + 1);
      expect(aws.fake.instanceState(id)).toBe('running');
      expect(lines(end.log).at(-1)).toBe(`Failed: ${end.message}`);
    });

    it('fails on an instance that does not exist', async () => {
      const id = instanceId();
      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id] });
      expect(end).toMatchObject({
        state: 'Failed',
        message: `StartInstances failed: InvalidInstanceID.NotFound: The instance ID '${id}' does not exist`,
      });
    });

    it('fails on an instance in a state the action does not apply to', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopping');
      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id] });
      expect(end.state).toBe('Failed');
      expect(end.message).toContain('StartInstances failed: IncorrectInstanceState: ');
    });

    it('gives up when an instance it waits for is terminated', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopped', { pollsToSettle: Infinity });
      const taskId = await aws.launch(aws.ec2, { action: 'start', instanceIds: [id] });
      await until('a first poll', () => aws.fake.instanceState(id) === 'pending');
      await until('a first poll', () =>
        aws.fake
          .requestsOf('ec2', 'DescribeInstances')
          .some((r) => r.params['InstanceId.1'] === id),
      );
      aws.fake.setInstanceState(id, 'terminated');

      const end = await aws.ended(aws.ec2, taskId);

      expect(end).toMatchObject({
        state: 'Failed',
        message: `${id} is terminated; it will not become running`,
        reason: 'AWS_STATE',
      });
    });

    it('fails when the instance is not in the target state within timeoutSeconds', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'stopped', { pollsToSettle: Infinity });
      const started = Date.now();

      const end = await aws.run(aws.ec2, { action: 'start', instanceIds: [id], timeoutSeconds: 1 });

      expect(end).toMatchObject({
        state: 'Failed',
        message: `timed out after 1 s waiting for ${id} to be running (last seen: ${id}: pending)`,
        reason: 'AWS_TIMEOUT',
      });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('stops waiting when killed, and reports Killed', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running', { pollsToSettle: Infinity });
      const polls = (): number =>
        aws.fake
          .requestsOf('ec2', 'DescribeInstances')
          .filter((request) => request.params['InstanceId.1'] === id).length;
      const taskId = await aws.launch(aws.ec2, { action: 'stop', instanceIds: [id] });
      await until('two polls', () => polls() >= 2);

      await aws.ec2.kill(taskId);
      const end = await aws.ended(aws.ec2, taskId);

      expect(end).toMatchObject({ state: 'Killed', reason: 'KILLED' });
      expect(end.states).toEqual(['Running', 'Killed']);
      expect(lines(end.log)).toEqual(
        expect.arrayContaining([`DescribeInstances ${id}: stopping`, 'kill requested']),
      );
      const after = polls();
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(polls()).toBe(after);
    });
  });

  describe('aws-rds-instance', () => {
    it('starts a DB instance and waits until it is available', async () => {
      const db = uniqueName('orders-db');
      aws.fake.addDbInstance(db, 'stopped', { pollsToSettle: 3 });

      const end = await aws.run(aws.rds, { action: 'start', dbInstanceIdentifier: db });

      expect(end).toMatchObject({ state: 'Finished', message: `${db} available` });
      expect(lines(end.log).slice(2)).toEqual([
        `StartDBInstance ${db} → starting`,
        `DescribeDBInstances ${db}: starting`,
        `DescribeDBInstances ${db}: starting`,
        `DescribeDBInstances ${db}: available`,
        `Finished: ${db} available`,
      ]);
    });

    it('stops a DB instance and waits until it is stopped', async () => {
      const db = uniqueName('orders-db');
      aws.fake.addDbInstance(db, 'available');
      const end = await aws.run(aws.rds, { action: 'stop', dbInstanceIdentifier: db });
      expect(end).toMatchObject({ state: 'Finished', message: `${db} stopped` });
      expect(aws.fake.dbInstanceStatus(db)).toBe('stopped');
    });

    it('retries throttling (400 Throttling) and a 503, then succeeds', async () => {
      const db = uniqueName('orders-db');
      aws.fake.addDbInstance(db, 'available', { pollsToSettle: 1 });
      aws.fake.fail({ service: 'rds', action: 'StopDBInstance', status: 400, code: 'Throttling' });
      aws.fake.fail({
        service: 'rds',
        action: 'StopDBInstance',
        status: 503,
        code: 'ServiceUnavailable',
      });
      const end = await aws.run(aws.rds, { action: 'stop', dbInstanceIdentifier: db });
      expect(end.state).toBe('Finished');
      expect(actions(aws.fake.requestsOf('rds', 'StopDBInstance').slice(-3))).toEqual([
        'rds:StopDBInstance:400',
        'rds:StopDBInstance:503',
        'rds:StopDBInstance:200',
      ]);
    });

    it('fails on a DB instance that does not exist, with the wire code', async () => {
      const end = await aws.run(aws.rds, { action: 'stop', dbInstanceIdentifier: 'missing-db' });
      expect(end).toMatchObject({
        state: 'Failed',
        message: 'StopDBInstance failed: DBInstanceNotFound: DBInstance missing-db not found.',
      });
    });

    it('fails on a DB instance in an invalid state', async () => {
      const db = uniqueName('orders-db');
      aws.fake.addDbInstance(db, 'available');
      const end = await aws.run(aws.rds, { action: 'start', dbInstanceIdentifier: db });
      expect(end).toMatchObject({
        state: 'Failed',
        message: `StartDBInstance failed: InvalidDBInstanceState: Instance ${db} is not stopped, cannot be started.`,
      });
    });

    it('fails on access denied', async () => {
      const db = uniqueName('orders-db');
      aws.fake.addDbInstance(db, 'stopped');
      aws.fake.fail({ service: 'rds', status: 403, code: 'AccessDenied' });
      const end = await aws.run(aws.rds, { action: 'start', dbInstanceIdentifier: db });
      expect(end.message).toBe(
        'StartDBInstance failed: AccessDenied: User is not authorized to perform this action',
      );
    });
  });

  describe('aws-ecs-service', () => {
    it('scales a service and waits over several polls until it runs the desired count', async () => {
      const service = uniqueName('web');
      aws.fake.addService('prod', service, { desiredCount: 3, runningCount: 3 });

      const end = await aws.run(aws.ecsService, { cluster: 'prod', service, desiredCount: 0 });

      expect(end).toMatchObject({ state: 'Finished', message: `prod/${service}: 0 of 0 running` });
      expect(lines(end.log).slice(2)).toEqual([
        `UpdateService prod/${service} desiredCount 0 → running 3, pending 0`,
        `DescribeServices prod/${service}: running 2, pending 0, desired 0`,
        `DescribeServices prod/${service}: running 1, pending 0, desired 0`,
        `DescribeServices prod/${service}: running 0, pending 0, desired 0`,
        `Finished: prod/${service}: 0 of 0 running`,
      ]);
      const update = aws.fake.requestsOf('ecs', 'UpdateService').at(-1);
      expect(update?.params).toEqual({ cluster: 'prod', service, desiredCount: 0 });
    });

    it('retries ThrottlingException, then succeeds', async () => {
      const service = uniqueName('web');
      aws.fake.addService('prod', service, { desiredCount: 0 });
      aws.fake.fail({
        service: 'ecs',
        action: 'UpdateService',
        status: 400,
        code: 'ThrottlingException',
      });
      const end = await aws.run(aws.ecsService, { cluster: 'prod', service, desiredCount: 1 });
      expect(end).toMatchObject({ state: 'Finished', message: `prod/${service}: 1 of 1 running` });
      expect(lines(end.log)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^UpdateService: ThrottlingException/)]),
      );
    });

    it('fails on a missing cluster or service, and on access denied', async () => {
      const cluster = await aws.run(aws.ecsService, {
        cluster: 'nowhere',
        service: 'web',
        desiredCount: 1,
      });
      expect(cluster.message).toBe(
        'UpdateService failed: ClusterNotFoundException: Cluster not found.',
      );
      aws.fake.addCluster('prod');
      const service = await aws.run(aws.ecsService, {
        cluster: 'prod',
        service: 'nothing',
        desiredCount: 1,
      });
      expect(service.message).toBe(
        'UpdateService failed: ServiceNotFoundException: Service not found.',
      );
      aws.fake.fail({ service: 'ecs', status: 400, code: 'AccessDeniedException' });
      const denied = await aws.run(aws.ecsService, {
        cluster: 'prod',
        service: 'nothing',
        desiredCount: 1,
      });
      expect(denied).toMatchObject({
        state: 'Failed',
        message:
          'UpdateService failed: AccessDeniedException: User is not authorized to perform this action',
      });
    });

    it('times out when the service does not converge', async () => {
      const service = uniqueName('web');
      aws.fake.addService('prod', service, { desiredCount: 1, runningCount: 1, stuck: true });
      const end = await aws.run(aws.ecsService, {
        cluster: 'prod',
        service,
        desiredCount: 4,
        timeoutSeconds: 1,
      });
      expect(end).toMatchObject({
        state: 'Failed',
        reason: 'AWS_TIMEOUT',
        message: `timed out after 1 s waiting for prod/${service} to run 4 tasks (last seen: running 1, pending 0, desired 4)`,
      });
    });
  });

  describe('aws-ecs-task', () => {
    beforeAll(() => aws.fake.addCluster('batch'));

    it('runs tasks and waits until they have started', async () => {
      const family = uniqueName('nightly-report');
      aws.fake.addTaskDefinition(family, { pollsToRun: 3 });
      const networkConfiguration = {
        awsvpcConfiguration: { subnets: ['subnet-0123'], assignPublicIp: 'DISABLED' },
      };

      const end = await aws.run(aws.ecsTask, {
        cluster: 'batch',
        taskDefinition: family,
        count: 2,
        launchType: 'FARGATE',
        networkConfiguration,
      });

      expect(end.state).toBe('Finished');
      expect(end.message).toMatch(/^2 tasks started: [0-9a-f]{32}, [0-9a-f]{32}$/);
      const runTask = aws.fake.requestsOf('ecs', 'RunTask').at(-1);
      expect(runTask?.params).toEqual({
        cluster: 'batch',
        taskDefinition: family,
        count: 2,
        launchType: 'FARGATE',
        networkConfiguration,
        startedBy: 'rhythm',
        clientToken: createHash('sha256').update(end.taskId).digest('hex'),
      });
      const log = lines(end.log);
      expect(log[2]).toMatch(
        new RegExp(
          `^RunTask ${family} on batch \\(2 × FARGATE\\) → \\w+: PROVISIONING, \\w+: PROVISIONING$`,
        ),
      );
      expect(log.filter((line) => line.startsWith('DescribeTasks'))).toEqual([
        expect.stringMatching(/^DescribeTasks \w+: PENDING, \w+: PENDING$/),
        expect.stringMatching(/^DescribeTasks \w+: PENDING, \w+: PENDING$/),
        expect.stringMatching(/^DescribeTasks \w+: RUNNING, \w+: RUNNING$/),
      ]);
    });

    it('fails when a task stops before it started, with its reason', async () => {
      const family = uniqueName('broken');
      aws.fake.addTaskDefinition(family, {
        stoppedReason: 'CannotPullContainerError: pull access denied',
      });
      const end = await aws.run(aws.ecsTask, { cluster: 'batch', taskDefinition: family });
      expect(end.state).toBe('Failed');
      expect(end.reason).toBe('AWS_STATE');
      expect(end.message).toMatch(
        /^task \w+ stopped before it started: TaskFailedToStart: CannotPullContainerError: pull access denied$/,
      );
    });

    it('fails when RunTask cannot place the tasks', async () => {
      const family = uniqueName('huge');
      aws.fake.addTaskDefinition(family, { failureReason: 'RESOURCE:MEMORY' });
      const end = await aws.run(aws.ecsTask, { cluster: 'batch', taskDefinition: family });
      expect(end).toMatchObject({
        state: 'Failed',
        message: 'RunTask started 0 of 1 tasks: RESOURCE:MEMORY',
      });
    });

    it('fails on a missing cluster', async () => {
      const end = await aws.run(aws.ecsTask, { cluster: 'gone', taskDefinition: 'x' });
      expect(end.message).toBe('RunTask failed: ClusterNotFoundException: Cluster not found.');
    });
  });

  describe('accounts', () => {
    it('assumes the account role with its external id, then signs with the temporary key', async () => {
      const [a, b] = [instanceId(), instanceId()];
      aws.fake.addInstance(a, 'stopped', { pollsToSettle: 1 });
      aws.fake.addInstance(b, 'running', { pollsToSettle: 1 });

      const first = await aws.run(aws.ec2, {
        action: 'start',
        instanceIds: [a],
        account: 'assumed',
      });
      const second = await aws.run(aws.ec2, {
        action: 'stop',
        instanceIds: [b],
        account: 'ASSUMED',
      });

      expect([first.state, second.state]).toEqual(['Finished', 'Finished']);
      const assumeCalls = aws.fake
        .requestsOf('sts', 'AssumeRole')
        .filter((request) => request.params.RoleArn === ROLE_ARN);
      expect(assumeCalls).toHaveLength(1);
      expect(assumeCalls[0]).toMatchObject({
        accessKeyId: BASE_KEY,
        region: 'eu-west-1',
        params: expect.objectContaining({
          RoleArn: ROLE_ARN,
          ExternalId: 'ext-4242',
          RoleSessionName: 'rhythm-Assumed',
        }),
      });
      const signed = aws.fake.requests.filter(
        (request) => request.params['InstanceId.1'] === a || request.params['InstanceId.1'] === b,
      );
      expect(signed.length).toBeGreaterThanOrEqual(4);
      for (const request of signed) {
        expect(request.accessKeyId).toMatch(/^ASIAFAKE\d+$/);
        expect(request.sessionToken).toMatch(/^fake-session-token-/);
        expect(request.region).toBe('eu-west-1');
      }
      expect(lines(first.log)[1]).toBe(
        `using account Assumed (region eu-west-1, role ${ROLE_ARN}, endpoint ${aws.fake.url})`,
      );
      expect(first.log).not.toContain('ext-4242');
      expect(first.log).not.toContain('fake-secret');
    });

    it('fails with the STS error when the role cannot be assumed', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running');
      aws.fake.fail({ service: 'sts', action: 'AssumeRole', status: 403, code: 'AccessDenied' });

      const end = await aws.run(aws.ec2, {
        action: 'reboot',
        instanceIds: [id],
        account: 'denied',
      });

      expect(end).toMatchObject({
        state: 'Failed',
        reason: 'AWS_ERROR',
        message:
          'RebootInstances failed: AccessDenied: cannot assume arn:aws:iam::123456789012:role/nope: ' +
          'User is not authorized to perform this action',
      });
      expect(
        aws.fake.requestsOf('ec2', 'RebootInstances').some((r) => r.params['InstanceId.1'] === id),
      ).toBe(false);
    });

    it('uses the default chain (environment credentials, region, endpoint) without an account', async () => {
      const id = instanceId();
      aws.fake.addInstance(id, 'running', { pollsToSettle: 1 });
      const end = await aws.run(aws.ec2, { action: 'stop', instanceIds: [id] });
      expect(end.state).toBe('Finished');
      expect(lines(end.log)[1]).toBe('using default credentials and region');
      const stop = aws.fake.requestsOf('ec2', 'StopInstances').at(-1);
      expect(stop).toMatchObject({ accessKeyId: BASE_KEY, region: 'us-east-1' });
      expect(stop?.sessionToken).toBeUndefined();
    });

    it('fails a run naming an account the server does not have', async () => {
      const end = await aws.run(aws.rds, {
        action: 'start',
        dbInstanceIdentifier: 'db',
        account: 'elsewhere',
      });
      expect(end).toMatchObject({
        state: 'Failed',
        reason: 'AWS_ACCOUNT',
        message: 'unknown AWS account "elsewhere": this server has Assumed, Denied, Local',
      });
    });
  });
});

/** Each AWS runner against the conformance suite, with its own fake and module. */
const CONFORMANCE: ReadonlyArray<
  readonly [string, (aws: AwsHarness) => Omit<RunnerConformanceSubject, 'cleanup'>]
> = [
  [
    'aws-ec2-instance',
    (aws) => ({
      runner: aws.ec2,
      succeedingLaunch: () => {
        const id = instanceId();
        aws.fake.addInstance(id, 'stopped', { pollsToSettle: 2 });
        return { options: { action: 'start', instanceIds: [id] } };
      },
      failingLaunch: () => ({ options: { action: 'start', instanceIds: [instanceId()] } }),
      slowLaunch: () => {
        const id = instanceId();
        aws.fake.addInstance(id, 'stopped', { pollsToSettle: Infinity });
        return { options: { action: 'start', instanceIds: [id] } };
      },
    }),
  ],
  [
    'aws-rds-instance',
    (aws) => ({
      runner: aws.rds,
      succeedingLaunch: () => {
        const db = uniqueName('db');
        aws.fake.addDbInstance(db, 'stopped');
        return { options: { action: 'start', dbInstanceIdentifier: db } };
      },
      failingLaunch: () => ({
        options: { action: 'start', dbInstanceIdentifier: uniqueName('missing') },
      }),
      slowLaunch: () => {
        const db = uniqueName('db');
        aws.fake.addDbInstance(db, 'available', { pollsToSettle: Infinity });
        return { options: { action: 'stop', dbInstanceIdentifier: db } };
      },
    }),
  ],
  [
    'aws-ecs-service',
    (aws) => ({
      runner: aws.ecsService,
      succeedingLaunch: () => {
        const service = uniqueName('svc');
        aws.fake.addService('prod', service, { desiredCount: 2 });
        return { options: { cluster: 'prod', service, desiredCount: 0 } };
      },
      failingLaunch: () => ({ options: { cluster: 'absent', service: 'svc', desiredCount: 0 } }),
      slowLaunch: () => {
        const service = uniqueName('svc');
        aws.fake.addService('prod', service, { desiredCount: 2, stuck: true });
        return { options: { cluster: 'prod', service, desiredCount: 0 } };
      },
    }),
  ],
  [
    'aws-ecs-task',
    (aws) => ({
      runner: aws.ecsTask,
      succeedingLaunch: () => {
        const family = uniqueName('td');
        aws.fake.addTaskDefinition(family);
        aws.fake.addCluster('batch');
        return { options: { cluster: 'batch', taskDefinition: family } };
      },
      failingLaunch: () => ({ options: { cluster: 'absent', taskDefinition: 'td' } }),
      slowLaunch: () => {
        const family = uniqueName('td');
        aws.fake.addTaskDefinition(family, { pollsToRun: Infinity });
        aws.fake.addCluster('batch');
        return { options: { cluster: 'batch', taskDefinition: family } };
      },
    }),
  ],
];

for (const [kind, subjectOf] of CONFORMANCE) {
  describeRunnerConformance(kind, async () => {
    const aws = await AwsHarness.start({ defaultTimeoutSeconds: 60 });
    return { ...subjectOf(aws), cleanup: () => aws.close() };
  });
}
