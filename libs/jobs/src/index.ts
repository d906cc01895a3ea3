export * from './domain/job';
export * from './domain/job-id';
export * from './domain/jobs.errors';
export type { TaskRecord } from './domain/task-record';
export {
  JOB_REPOSITORY,
  type JobRepository,
  type QueuedRun,
} from './application/ports/job-repository.port';
export { TASK_HISTORY, type TaskHistoryRepository } from './application/ports/task-history.port';
export { JobsService } from './application/jobs.service';
export { JobsModule } from './jobs.module';
export type { JobStoreOptions } from './infrastructure/job-store';
