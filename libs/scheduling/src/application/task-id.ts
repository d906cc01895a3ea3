import { randomUUID } from 'node:crypto';
import type { JobId } from '@rhythm/jobs';

/** Task ids are `group:project:id:<uuid>`, as the original Rhythm named its Mesos tasks. */
export function newTaskId(jobId: JobId): string {
  return `${jobId.group}:${jobId.project}:${jobId.id}:${randomUUID()}`;
}

/** The job a task id belongs to (names never contain `:`), or null for a foreign id. */
export function jobIdOfTask(taskId: string): JobId | null {
  const parts = taskId.split(':');
  if (parts.length !== 4 || parts.some((part) => part === '')) return null;
  return { group: parts[0], project: parts[1], id: parts[2] };
}
