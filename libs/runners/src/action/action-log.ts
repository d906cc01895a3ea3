import type { TaskLog } from '@rhythm/scheduling';
import { TailBuffer } from '../local/tail-buffer';

/**
 * What an in-process action did, one timestamped line per event
 * (`2026-03-04T05:06:00.123Z StartInstances i-0abc → pending`). The last `keepBytes` bytes are kept;
 * offsets count bytes of the whole log, as for process output.
 */
export class ActionLog {
  private readonly tail: TailBuffer;

  constructor(keepBytes: number) {
    this.tail = new TailBuffer(keepBytes);
  }

  /** Total bytes logged so far, kept or not. */
  get size(): number {
    return this.tail.size;
  }

  /** Appends one line; line breaks inside it become spaces, so that one event stays one line. */
  append(line: string, at: Date = new Date()): void {
    const flat = line.replace(/\s*[\r\n]+\s*/g, ' ');
    this.tail.write(Buffer.from(`${at.toISOString()} ${flat}\n`, 'utf8'));
  }

  contents(): Buffer {
    return this.tail.contents();
  }

  window(range: LogRange): TaskLog {
    return logWindow(this.contents(), this.size, range);
  }
}

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
