import { TASK_STATES, type TaskStatus } from '../wire/mesos-messages';
import { rhythmStateOf, toTaskStatusUpdate } from './task-status.mapping';

const context = {
  frameworkId: 'fw-1',
  masterUrl: 'http://m:5050',
  now: new Date('2026-01-01T00:00:00Z'),
};

describe('Mesos task statuses', () => {
  it('gives every Mesos task state a Rhythm state', () => {
    const states = Object.fromEntries(TASK_STATES.map((state) => [state, rhythmStateOf(state)]));
    expect(states).toEqual({
      TASK_STAGING: 'Staging',
      TASK_STARTING: 'Starting',
      TASK_RUNNING: 'Running',
      TASK_KILLING: 'Running',
      TASK_FINISHED: 'Finished',
      TASK_FAILED: 'Failed',
      TASK_ERROR: 'Failed',
      TASK_KILLED: 'Killed',
      TASK_LOST: 'Lost',
      TASK_DROPPED: 'Lost',
      TASK_UNREACHABLE: 'Lost',
      TASK_GONE: 'Lost',
      TASK_GONE_BY_OPERATOR: 'Lost',
      TASK_UNKNOWN: 'Lost',
    });
    expect(rhythmStateOf('TASK_FROM_THE_FUTURE')).toBe('Lost');
  });

  it('turns a failure into an update with its exit code, reason, source and executor URL', () => {
    const status: TaskStatus = {
      task_id: { value: 'g:p:j:1' },
      state: 'TASK_FAILED',
      message: 'Command exited with status 3',
      source: 'SOURCE_EXECUTOR',
      reason: 'REASON_COMMAND_EXECUTOR_FAILED',
      agent_id: { value: 'a-1' },
      executor_id: { value: 'g:p:j:1' },
      timestamp: 1767225600.5,
      uuid: 'dXVpZA==',
    };
    expect(toTaskStatusUpdate(status, context)).toEqual({
      taskId: 'g:p:j:1',
      state: 'Failed',
      at: new Date(1767225600500),
      exitCode: 3,
      message: 'Command exited with status 3',
      reason: 'REASON_COMMAND_EXECUTOR_FAILED',
      source: 'SOURCE_EXECUTOR',
      agentId: 'a-1',
      executorId: 'g:p:j:1',
      frameworkId: 'fw-1',
      executorUrl: 'http://m:5050/#/agents/a-1/frameworks/fw-1/executors/g:p:j:1',
    });
  });

  it('fills in the original defaults for a failure without reason or source', () => {
    const update = toTaskStatusUpdate({ task_id: { value: 't' }, state: 'TASK_LOST' }, context);
    expect(update).toMatchObject({
      state: 'Lost',
      reason: 'REASON_COMMAND_EXECUTOR_FAILED',
      source: 'SOURCE_MASTER',
      message: 'TASK_LOST',
      executorId: 't',
      at: context.now,
    });
  });

  it('reports a finished task with exit code 0 and no message', () => {
    const update = toTaskStatusUpdate({ task_id: { value: 't' }, state: 'TASK_FINISHED' }, context);
    expect(update.exitCode).toBe(0);
    expect(update).not.toHaveProperty('message');
  });
});
