import type { TaskState } from '../../infrastructure/wire/mesos-messages';
import { StatusUpdateManager, type PendingUpdate } from './status-updates';

const update = (state: TaskState, uuid: string): PendingUpdate => ({
  frameworkId: 'f',
  status: { task_id: { value: 't' }, state, uuid },
});

describe('StatusUpdateManager', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends one update at a time and retries it with a doubling interval up to the cap', () => {
    const sent: string[] = [];
    const manager = new StatusUpdateManager((u) => sent.push(String(u.status.uuid)), 100, 300);
    manager.enqueue(update('TASK_STARTING', 'u1'));
    manager.enqueue(update('TASK_RUNNING', 'u2'));
    expect(sent).toEqual(['u1']);
    jest.advanceTimersByTime(99);
    expect(sent).toEqual(['u1']);
    jest.advanceTimersByTime(1); // 100 ms
    jest.advanceTimersByTime(200); // then 200 ms
    jest.advanceTimersByTime(300); // then capped at 300 ms
    jest.advanceTimersByTime(300);
    expect(sent).toEqual(['u1', 'u1', 'u1', 'u1', 'u1']);
    manager.stop();
  });

  it('moves on only when the awaited uuid is acknowledged', () => {
    const sent: string[] = [];
    const manager = new StatusUpdateManager((u) => sent.push(String(u.status.uuid)), 100, 1000);
    manager.enqueue(update('TASK_STARTING', 'u1'));
    manager.enqueue(update('TASK_FINISHED', 'u2'));
    expect(manager.acknowledge('f', 't', 'u2')).toEqual({ matched: false, terminal: false });
    expect(manager.acknowledge('f', 't', 'u1')).toEqual({ matched: true, terminal: false });
    expect(sent).toEqual(['u1', 'u2']);
    expect(manager.acknowledge('f', 't', 'u2')).toEqual({ matched: true, terminal: true });
    expect(manager.pending('f', 't')).toEqual([]);
    jest.advanceTimersByTime(10_000);
    expect(sent).toEqual(['u1', 'u2']);
  });

  it('re-sends at once on resume and resets the interval', () => {
    const sent: string[] = [];
    const manager = new StatusUpdateManager((u) => sent.push(String(u.status.uuid)), 100, 1000);
    manager.enqueue(update('TASK_STARTING', 'u1'));
    jest.advanceTimersByTime(300); // retries at 100 and 300 ms
    manager.resume('f');
    expect(sent).toEqual(['u1', 'u1', 'u1', 'u1']);
    jest.advanceTimersByTime(100);
    expect(sent).toHaveLength(5);
    manager.resume('other');
    expect(sent).toHaveLength(5);
    manager.stop();
  });
});
