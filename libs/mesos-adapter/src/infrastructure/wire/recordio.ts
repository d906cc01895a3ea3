/**
 * Mesos RecordIO framing: `<decimal byte length>\n<bytes>`, repeated. Chunk boundaries of the HTTP
 * body carry no meaning, so the decoder keeps whatever it has not yet framed and counts bytes,
 * never characters (a record may hold multi-byte UTF-8 split across two chunks).
 */

export class RecordIoError extends Error {
  override readonly name = 'RecordIoError';
}

/** Longest length prefix accepted; a record larger than this is a protocol error, not a stream. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const MAX_PREFIX_DIGITS = String(MAX_RECORD_BYTES).length;
const NEWLINE = 0x0a;

export class RecordIoDecoder {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  /** Length of the record being read, once its prefix has been read. */
  private expected: number | null = null;

  /** Feeds one chunk and returns every record it completes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    const records: Buffer[] = [];
    for (;;) {
      if (this.expected === null) {
        const length = this.readPrefix();
        if (length === null) break;
        this.expected = length;
      }
      if (this.bufferedBytes < this.expected) break;
      records.push(this.take(this.expected));
      this.expected = null;
    }
    return records;
  }

  /** Bytes received but not yet part of a complete record (a stream cut mid-record has some). */
  get pendingBytes(): number {
    return this.bufferedBytes;
  }

  private readPrefix(): number | null {
    const all = this.flatten();
    const newline = all.indexOf(NEWLINE);
    if (newline < 0) {
      if (all.length > MAX_PREFIX_DIGITS) {
        throw new RecordIoError('RecordIO length prefix too long');
      }
      return null;
    }
    const digits = all.subarray(0, newline).toString('latin1');
    if (!/^[0-9]+$/.test(digits) || digits.length > MAX_PREFIX_DIGITS) {
      throw new RecordIoError(`Invalid RecordIO length prefix: ${JSON.stringify(digits)}`);
    }
    const length = Number(digits);
    if (length > MAX_RECORD_BYTES) throw new RecordIoError(`RecordIO record too large: ${length}`);
    this.take(newline + 1);
    return length;
  }

  private take(bytes: number): Buffer {
    const all = this.flatten();
    const record = all.subarray(0, bytes);
    const rest = all.subarray(bytes);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.bufferedBytes = rest.length;
    // Copy so a long-lived record does not pin the whole chunk it arrived in.
    return Buffer.from(record);
  }

  private flatten(): Buffer {
    if (this.buffered.length > 1) this.buffered = [Buffer.concat(this.buffered)];
    return this.buffered[0] ?? Buffer.alloc(0);
  }
}

/** Frames one record. */
export function encodeRecord(payload: Buffer | string): Buffer {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.from(`${bytes.length}\n`, 'latin1'), bytes]);
}
