import type { TaskLog } from '@rhythm/scheduling';
import { logWindow, type LogRange } from '../kept-output/kept-output';
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
