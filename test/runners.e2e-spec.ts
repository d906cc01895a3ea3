import { Injectable, Module } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Min, MinLength } from 'class-validator';
import { RhythmRunner } from '@rhythm/runners';
import type { RunLaunch, Runner, TaskLog, TaskStatusUpdate } from '@rhythm/scheduling';
import request from 'supertest';
import type { App } from 'supertest/types';
import { startTestApp, type TestApp } from './support/test-app';
import { waitFor } from './support/wait-for';

// Third-party code may not use the Swagger CLI plugin: then it documents its options itself.
class RecordingOptionsDto {
  @ApiProperty({ description: 'What to record' })
  @IsString({ message: 'Must be a string' })
  @MinLength(1, { message: 'Must not be empty' })
  target!: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1 })
  @IsOptional()
  @IsInt({ message: 'Must be an integer' })
  @Min(1, { message: 'Must be at least 1' })
  copies?: number;
}

/** A third-party runner as a platform team would write one: it records launches and succeeds. */
@RhythmRunner({ kind: 'recording', options: RecordingOptionsDto })
@Injectable()
class RecordingRunner implements Runner {
  readonly kind = 'recording';
  readonly launches: RunLaunch[] = [];
  private listener: (update: TaskStatusUpdate) => void = () => undefined;

  onUpdate(listener: (update: TaskStatusUpdate) => void): void {
    this.listener = listener;
  }

  async launch(run: RunLaunch): Promise<void> {
    this.launches.push(run);
    setImmediate(() => {
      this.listener({ taskId: run.taskId, state: 'Running', at: new Date() });
      this.listener({ taskId: run.taskId, state: 'Finished', at: new Date(), exitCode: 0 });
    });
  }

  async kill(): Promise<void> {}

  async reconcile(): Promise<void> {}

  async readLogs(): Promise<TaskLog | null> {
    return null;
  }
}

@Module({ providers: [RecordingRunner] })
class RecordingRunnerModule {}

@RhythmRunner({ kind: 'recording' })
@Injectable()
class AnotherRecordingRunner extends RecordingRunner {}

@Module({ providers: [AnotherRecordingRunner] })
class AnotherRecordingRunnerModule {}

const SCHEDULE = { cron: '0 0 1 1 *' };

describe('jobs on a runner registered by an extra module', () => {
  let testApp: TestApp;
  let http: App;

  beforeAll(async () => {
    testApp = await startTestApp('embedded', undefined, {}, { modules: [RecordingRunnerModule] });
    http = testApp.app.getHttpServer() as App;
  });

  afterAll(async () => {
    await testApp.close();
  });

  const post = (body: object) => request(http).post('/api/v1/jobs').send(body);

  it('takes a job with a runner and no container, CPUs or memory, and shows its runner', async () => {
    const created = await post({
      group: 'g',
      project: 'p',
      id: 'recorded',
      schedule: SCHEDULE,
      Runner: { Kind: 'recording', TARGET: 'db-1', copies: 2 },
    });
    expect(created.status).toBe(204);
    const job = await request(http).get('/api/v1/jobs/g/p/recorded');
    expect(job.body).toMatchObject({
      Runner: { Kind: 'recording', target: 'db-1', copies: 2 },
      Container: { Type: 'Docker', Docker: { Image: '', ForcePullImage: false } },
      CPUs: 0,
      Mem: 0,
    });
  });

  it('launches the run on that runner with the options and records it as that runner', async () => {
    await post({
      group: 'g',
      project: 'p',
      id: 'launched',
      schedule: SCHEDULE,
      runner: { kind: 'recording', target: 'db-2' },
    }).expect(204);
    await request(http).post('/api/v1/jobs/g/p/launched/run').expect(204);
    const runner = testApp.app.get(RecordingRunner);
    const launch = await waitFor(
      () => runner.launches.find((run) => run.jobId.id === 'launched'),
      'the launch',
    );
    expect(launch.options).toEqual({ target: 'db-2' });
    const tasks = await waitFor(async () => {
      const body = (await request(http).get('/api/v1/jobs/g/p/launched/tasks')).body as Array<{
        Runner: string;
        State: string;
        TaskID: string;
      }>;
      return body.length > 0 && body;
    }, 'the task record');
    expect(tasks[0]).toMatchObject({
      Runner: 'recording',
      State: 'Finished',
      TaskID: launch.taskId,
    });
  });

  it('still requires a container, CPUs and memory of a job without a runner', async () => {
    const response = await post({ group: 'g', project: 'p', id: 'plain', schedule: SCHEDULE });
    expect(response.status).toBe(400);
    expect(response.body.Errors).toEqual(
      expect.arrayContaining([
        'Container: Is required',
        expect.stringMatching(/^CPUs: /),
        expect.stringMatching(/^Mem: /),
      ]),
    );
  });

  it.each([
    [{ target: 'x' }, 'Runner.Kind: Is required and must be a runner name'],
    [
      { kind: 'nope' },
      'Runner.Kind: unknown runner "nope"; this server has aws-ec2-instance, aws-ecs-service, ' +
        'aws-ecs-task, aws-rds-instance, local, recording, webhook',
    ],
    [{ kind: 'recording' }, /^Runner\.target: /],
    [{ kind: 'recording', target: 'x', copies: 0 }, 'Runner.copies: Must be at least 1'],
    [
      { kind: 'recording', target: 'x', colour: 'red' },
      'Runner.colour: is not an option of this runner',
    ],
    [{ kind: 'local', target: 'x' }, 'Runner.target: is not an option of this runner'],
  ])('refuses the runner %j, naming the field, and writes nothing', async (runner, message) => {
    const response = await post({
      group: 'g',
      project: 'p',
      id: 'bad',
      schedule: SCHEDULE,
      runner,
    });
    expect(response.status).toBe(400);
    expect(response.body.Errors).toEqual([
      typeof message === 'string' ? message : expect.stringMatching(message),
    ]);
    expect((await request(http).get('/api/v1/jobs/g/p/bad')).status).toBe(404);
  });

  it('replaces the runner whole on update and validates it there too', async () => {
    await post({
      group: 'g',
      project: 'p',
      id: 'updated',
      schedule: SCHEDULE,
      runner: { kind: 'recording', target: 'a', copies: 3 },
    }).expect(204);
    await request(http)
      .put('/api/v1/jobs/g/p/updated')
      .send({ runner: { kind: 'recording', target: 'b' } })
      .expect(204);
    expect((await request(http).get('/api/v1/jobs/g/p/updated')).body.Runner).toEqual({
      Kind: 'recording',
      target: 'b',
    });
    const refused = await request(http)
      .put('/api/v1/jobs/g/p/updated')
      .send({ runner: { kind: 'recording', target: '' } });
    expect(refused.status).toBe(400);
    expect(refused.body.Errors).toEqual(['Runner.target: Must not be empty']);
  });

  it('documents each runner and its options in the OpenAPI document', async () => {
    const document = (await request(http).get('/docs-json')).body as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(document.components.schemas.RecordingOptionsDto?.properties).toHaveProperty('target');
    expect(JSON.stringify(document.components.schemas.CreateJobDto?.properties?.runner)).toContain(
      '#/components/schemas/RecordingOptionsDto',
    );
  });
});

describe('runner registration', () => {
  it('fails the boot when two runners declare the same kind', async () => {
    await expect(
      startTestApp(
        'embedded',
        undefined,
        {},
        { modules: [RecordingRunnerModule, AnotherRecordingRunnerModule] },
      ),
    ).rejects.toThrow(
      'Two runners declare the kind "recording": RecordingRunner and AnotherRecordingRunner',
    );
  });
});
