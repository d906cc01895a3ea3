import { createHash } from 'node:crypto';
import type { TaskLog } from '@rhythm/scheduling';

/**
 * What runners keep of a task's output on disk and serve at the logs route: file names per task
 * and the window of a kept tail a request asks for. Shared by every runner that keeps output.
 */
export interface LogRange {
  readonly offset?: number;
  readonly length?: number;
}

/**
 * The part of a log asked for, when `kept` holds its last bytes and `size` is its whole length: an
 * offset before the kept bytes starts at the first kept one; no offset means all that is kept.
 */
export function logWindow(kept: Buffer, size: number, range: LogRange): TaskLog {
  const first = Math.max(0, size - kept.length);
  const wanted =
    range.offset !== undefined && Number.isFinite(range.offset) ? Math.floor(range.offset) : first;
  const offset = Math.min(size, Math.max(first, wanted));
  const end =
    range.length !== undefined && Number.isFinite(range.length)
      ? Math.min(size, offset + Math.max(0, Math.floor(range.length)))
      : size;
  return { offset, data: kept.subarray(offset - first, end - first).toString('utf8'), size };
}

/** Task ids contain `:` and may contain anything; long ones are shortened with a hash. */
export function taskFileName(taskId: string): string {
  const encoded = encodeURIComponent(taskId);
  if (encoded.length <= 180 && encoded !== '') return encoded;
  const hash = createHash('sha256').update(taskId).digest('hex').slice(0, 32);
  return `${encoded.slice(0, 100)}~${hash}`;
}

export function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}
