import type { RunLaunch } from '@rhythm/scheduling';
import { SAMPLE_SPEC } from '@rhythm/jobs/testing/job-fixtures';
import { buildTaskInfo } from './task-info.builder';

function launch(spec: Partial<RunLaunch['spec']>): RunLaunch {
  return {
    taskId: 'g:p:j:1',
    jobId: { group: 'g', project: 'p', id: 'j' },
    spec: { ...SAMPLE_SPEC, ...spec },
    scheduledAt: new Date('2026-01-01T00:01:00Z'),
    attempt: 1,
    options: {},
  };
}

const variables = (info: ReturnType<typeof buildTaskInfo>) =>
  Object.fromEntries((info.command?.environment?.variables ?? []).map((v) => [v.name, v.value]));

describe('buildTaskInfo', () => {
  it('runs a shell command with the Rhythm variables, the job env and the secrets, in that precedence', () => {
    const info = buildTaskInfo(
      launch({
        cmd: 'echo hi',
        shell: true,
        user: '',
        cpus: 1000000,
        mem: 0.5,
        disk: 0,
        env: { A: '1', RHYTHM_CPU: 'mine' },
      }),
      { A: 'secret' },
      'agent-1',
      [],
    );
    expect(info.command).toMatchObject({ shell: true, value: 'echo hi' });
    expect(info.command).not.toHaveProperty('arguments');
    expect(info.command).not.toHaveProperty('user');
    expect(variables(info)).toEqual({
      RHYTHM_TASK_ID: 'g:p:j:1',
      RHYTHM_SCHEDULED_TIME: '2026-01-01T00:01:00.000Z',
      RHYTHM_CPU: 'mine',
      RHYTHM_MEM: '0.5',
      RHYTHM_DISK: '0',
      A: 'secret',
    });
    expect(info).toMatchObject({
      name: 'Task g:p:j:1',
      task_id: { value: 'g:p:j:1' },
      agent_id: { value: 'agent-1' },
    });
  });

  it('runs a command without a shell as argv[0] followed by the arguments, as the given user', () => {
    const info = buildTaskInfo(
      launch({ cmd: '/bin/ls', shell: false, arguments: ['-l', '/'], user: 'nobody' }),
      {},
      'a',
      [],
    );
    expect(info.command).toMatchObject({
      shell: false,
      value: '/bin/ls',
      arguments: ['/bin/ls', '-l', '/'],
      user: 'nobody',
    });
  });

  it('writes plain decimals where Go wrote exponents', () => {
    const info = buildTaskInfo(launch({ cpus: 1000000 }), {}, 'a', []);
    expect(variables(info).RHYTHM_CPU).toBe('1000000');
  });

  it('leaves out labels and the container when the job has none', () => {
    const info = buildTaskInfo(
      launch({
        labels: {},
        container: { type: 'Docker', docker: { image: '', forcePullImage: false } },
      }),
      {},
      'a',
      [],
    );
    expect(info).not.toHaveProperty('labels');
    expect(info).not.toHaveProperty('container');
  });
});
