export * from './domain/job';
export * from './domain/job-id';
export * from './domain/jobs.errors';
export type { TaskRecord, TaskOutcome } from './domain/task-record';
export {
  CronExpression,
  InvalidCronExpressionError,
  isValidTimezone,
} from './domain/cron-expression';
export { CLOCK, SYSTEM_CLOCK, type Clock } from './application/ports/clock.port';
export {
  JOB_REPOSITORY,
  type Fence,
  type JobBatchChange,
  type JobBatchResult,
  type JobChange,
  type JobRepository,
  type OrphanedRun,
} from './application/ports/job-repository.port';
export {
  TASK_HISTORY,
  DEFAULT_HISTORY_RETENTION,
  type HistoryRetention,
  type TaskHistoryRepository,
  type TaskPage,
} from './application/ports/task-history.port';
export {
  SCHEDULER_STATE,
  type SchedulerStateRepository,
} from './application/ports/scheduler-state.port';
export { JobsService, type PendingRun } from './application/jobs.service';
export { JobsModule } from './jobs.module';
export { JOBS_SETTINGS, type JobsSettings } from './jobs.settings';
export type { JobStoreOptions } from './infrastructure/job-store';
export { RedisJobKeys } from './infrastructure/redis/redis-job-keys';
export { createRedisConnection } from './infrastructure/redis/redis-connection';
