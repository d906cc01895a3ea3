import request from 'supertest';
import type { App } from 'supertest/types';
import { FakeAws } from './support/fake-aws';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait-for';

interface TaskBody {
  TaskID: string;
  State: string;
  Runner: string;
  Message: string;
  Reason: string;
}

const SCHEDULE = { cron: '0 0 1 1 *' }; // once a year: only run-now starts runs here

/**
 * Jobs on the AWS runners through the whole app: API → scheduler → runner → the real SDK v3
 * clients → a local server speaking the EC2 and RDS query protocols (the SDK's default chain finds
 * it through AWS_ENDPOINT_URL and the standard credential variables).
 */
describe('jobs on the AWS runners, through the API and the scheduler', () => {
  let aws: FakeAws;
  let testApp: TestApp;
  let http: App;
  const saved: Record<string, string | undefined> = {};
  const env = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
  };

  beforeAll(async () => {
    aws = await FakeAws.start();
    for (const key of [...Object.keys(env), 'AWS_ENDPOINT_URL']) saved[key] = process.env[key];
    Object.assign(process.env, env, { AWS_ENDPOINT_URL: aws.url });
    testApp = await startTestApp('embedded');
    http = testApp.app.getHttpServer() as App;
  });

  afterAll(async () => {
    await testApp?.close();
    await aws?.close();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  async function runJob(id: string, runner: Record<string, unknown>): Promise<TaskBody> {
    await request(http)
      .post('/api/v1/jobs')
      .send({ group: 'ops', project: 'aws', id, schedule: SCHEDULE, runner })
      .expect(204);
    await request(http).post(`/api/v1/jobs/ops/aws/${id}/run`).expect(204);
    const tasks = await waitFor(async () => {
      const body = (await request(http).get(`/api/v1/jobs/ops/aws/${id}/tasks`)).body as TaskBody[];
      return body.length > 0 && body;
    }, `the run of ${id}`);
    return tasks[0];
  }

  it('starts an instance, waits until it runs, and records the run with its log', async () => {
    aws.addInstance('i-0abc1234', 'stopped', { pollsToSettle: 2 });
    const task = await runJob('start-web', {
      kind: 'aws-ec2-instance',
      action: 'start',
      instanceIds: ['i-0abc1234'],
      timeoutSeconds: 30,
    });
    expect(task).toMatchObject({ State: 'Finished', Runner: 'aws-ec2-instance' });
    expect(aws.instanceState('i-0abc1234')).toBe('running');
    expect(aws.requestsOf('ec2', 'StartInstances')).toHaveLength(1);
    const logs = await request(http).get(
      `/api/v1/jobs/ops/aws/start-web/tasks/${task.TaskID}/logs`,
    );
    expect(logs.status).toBe(200);
    expect(JSON.stringify(logs.body)).toContain('StartInstances');
    expect(JSON.stringify(logs.body)).toContain('running');
  });

  it('records a failed run with the AWS error code in its message', async () => {
    const task = await runJob('stop-missing-db', {
      kind: 'aws-rds-instance',
      action: 'stop',
      dbInstanceIdentifier: 'no-such-db',
    });
    expect(task).toMatchObject({ State: 'Failed', Runner: 'aws-rds-instance' });
    expect(task.Message).toContain('DBInstanceNotFound');
  });

  it('refuses a job whose runner options are invalid, naming the field', async () => {
    const response = await request(http)
      .post('/api/v1/jobs')
      .send({
        group: 'ops',
        project: 'aws',
        id: 'bad',
        schedule: SCHEDULE,
        runner: { kind: 'aws-ec2-instance', action: 'hibernate', instanceIds: [] },
      });
    expect(response.status).toBe(400);
    expect(response.body.Errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Runner\.action: /)]),
    );
  });
});
