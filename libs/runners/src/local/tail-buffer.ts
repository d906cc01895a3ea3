/**
 * The last `capacity` bytes written to a stream, in a fixed ring (allocated on the first write), and
 * the total number of bytes ever written. Memory stays bounded however much a task prints.
 */
export class TailBuffer {
  private ring: Buffer | null = null;
  /** Index in `ring` of the oldest kept byte. */
  private start = 0;
  private kept = 0;
  private written = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw new RangeError(`capacity must be a non-negative integer, got ${capacity}`);
    }
  }

  /** Total bytes written so far, kept or not. */
  get size(): number {
    return this.written;
  }

  /** Bytes of the stream before the kept window. */
  get windowStart(): number {
    return this.written - this.kept;
  }

  write(chunk: Buffer): void {
    this.written += chunk.length;
    const capacity = this.capacity;
    if (capacity === 0 || chunk.length === 0) return;
    this.ring ??= Buffer.alloc(capacity);
    if (chunk.length >= capacity) {
      chunk.copy(this.ring, 0, chunk.length - capacity);
      this.start = 0;
      this.kept = capacity;
      return;
    }
    const end = (this.start + this.kept) % capacity;
    const first = Math.min(chunk.length, capacity - end);
    chunk.copy(this.ring, end, 0, first);
    chunk.copy(this.ring, 0, first);
    const overflow = this.kept + chunk.length - capacity;
    if (overflow > 0) {
      this.start = (this.start + overflow) % capacity;
      this.kept = capacity;
    } else {
      this.kept += chunk.length;
    }
  }

  /** A copy of the kept bytes, oldest first. */
  contents(): Buffer {
    if (this.ring === null || this.kept === 0) return Buffer.alloc(0);
    const end = this.start + this.kept;
    if (end <= this.capacity) return Buffer.from(this.ring.subarray(this.start, end));
    return Buffer.concat([
      this.ring.subarray(this.start),
      this.ring.subarray(0, end - this.capacity),
    ]);
  }
}
