import type { TaskHistoryRepository, TaskPage } from '../../application/ports/task-history.port';
import type { JobId } from '../../domain/job-id';
import { jobKey } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';
import type { EmbeddedStore } from './embedded-store';

/**
 * Task history in the embedded store, kept with its job so deleting the job removes it. Records
 * are appended by EmbeddedJobRepository.update, with the change that closes them.
 */
export class EmbeddedTaskHistoryRepository implements TaskHistoryRepository {
  constructor(private readonly store: EmbeddedStore) {}

  async list(jobId: JobId, page?: TaskPage): Promise<TaskRecord[]> {
    return this.store.listTasks(jobKey(jobId), page);
  }

  async count(jobId: JobId): Promise<number> {
    return this.store.countTasks(jobKey(jobId));
  }
}
