import type { Fence } from './job-repository.port';

export const SCHEDULER_STATE = Symbol('SCHEDULER_STATE');

/**
 * Small named values the leader keeps across terms, restarts and failovers, such as the Mesos
 * framework ID: losing it would register a new framework and orphan every running task.
 */
export interface SchedulerStateRepository {
  get(name: string): Promise<string | null>;
  /**
   * Writes the value, or removes it when null. With a fence the write is refused (STALE_FENCE)
   * once a newer leadership term exists.
   */
  set(name: string, value: string | null, fence?: Fence): Promise<void>;
}
