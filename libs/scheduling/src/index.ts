export {
  LEADER_ELECTION,
  type LeaderElection,
  type LeadershipTerm,
} from './application/ports/leader-election.port';
export {
  COMMAND_RUNNER,
  RUNNER_REGISTRY,
  TERMINAL_TASK_STATES,
  type Runner,
  type RunnerOptionsCheck,
  type RunnerRegistry,
  type RunLaunch,
  type TaskLog,
  type TaskLogStream,
  type TaskState,
  type TaskStatusUpdate,
} from './application/ports/runner.port';
export {
  SCHEDULER_METRICS,
  NO_SCHEDULER_METRICS,
  type SchedulerMetrics,
} from './application/ports/scheduler-metrics.port';
export { SchedulerService } from './application/scheduler.service';
export { TaskLogsService } from './application/task-logs.service';
export { jobIdOfTask, newTaskId } from './application/task-id';
export type { SkipReason } from './domain/missed-runs';
export { SoleInstanceLeaderElection } from './infrastructure/sole-instance-leader-election';
export { RedisLeaderElection } from './infrastructure/redis/redis-leader-election';
export { SchedulingModule, type LeaderElectionOptions } from './scheduling.module';
export {
  SCHEDULING_SETTINGS,
  DEFAULT_SCHEDULING_SETTINGS,
  type SchedulingSettings,
} from './scheduling.settings';
