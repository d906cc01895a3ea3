import type { TaskHistoryRepository } from '../../application/ports/task-history.port';
import type { JobId } from '../../domain/job-id';
import { jobKey } from '../../domain/job-id';
import type { TaskRecord } from '../../domain/task-record';
import type { EmbeddedStore } from './embedded-store';

/** Task history in the embedded store, kept with its job so deleting the job removes it. */
export class EmbeddedTaskHistoryRepository implements TaskHistoryRepository {
  constructor(private readonly store: EmbeddedStore) {}

  async append(jobId: JobId, task: TaskRecord): Promise<void> {
    await this.store.appendTask(jobKey(jobId), task);
  }

  async list(jobId: JobId): Promise<TaskRecord[]> {
    return this.store.listTasks(jobKey(jobId));
  }
}
