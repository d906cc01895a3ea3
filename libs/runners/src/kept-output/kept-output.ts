import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
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

/** A kept file's bytes; empty when it was never written or is gone. */
export async function readKeptFile(file: string): Promise<Buffer> {
  try {
    return await fsp.readFile(file);
  } catch (error) {
    if (isNotFound(error)) return Buffer.alloc(0);
    throw error;
  }
}

/**
 * Deletes the files of `dir` whose names match `kept` and that were last modified more than
 * `maxAgeMs` ago; returns how many went. A missing directory has nothing to prune.
 */
export async function pruneKeptFiles(dir: string, kept: RegExp, maxAgeMs: number): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (error) {
    if (isNotFound(error)) return 0;
    throw error;
  }
  const cutoff = Date.now() - maxAgeMs;
  let removed = 0;
  for (const name of names) {
    if (!kept.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const stat = await fsp.stat(file);
      if (!stat.isFile() || stat.mtimeMs >= cutoff) continue;
      await fsp.unlink(file);
      removed += 1;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}

/** Waits for `promise`, but no longer than `ms` (a runner's shutdown must not hang the app's). */
export async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise.then(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
