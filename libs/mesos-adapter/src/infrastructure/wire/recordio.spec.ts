import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RecordIoDecoder, RecordIoError, encodeRecord } from './recordio';

const FIXTURES = join(__dirname, '../../../../../../shared/reference/mesos/fixtures');

function decodeInChunks(stream: Buffer, size: number): Buffer[] {
  const decoder = new RecordIoDecoder();
  const records: Buffer[] = [];
  for (let at = 0; at < stream.length; at += size) {
    records.push(...decoder.push(stream.subarray(at, at + size)));
  }
  expect(decoder.pendingBytes).toBe(0);
  return records;
}

describe('RecordIoDecoder', () => {
  const binary = readFileSync(join(FIXTURES, 'mesos-rxjava-events.bin'));
  const json = readFileSync(join(FIXTURES, 'mesos-rxjava-events.decoded-json.recordio'));
  const lines = readFileSync(join(FIXTURES, 'mesos-rxjava-events.decoded.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);

  it.each([1, 7, 100, 4096, 1 << 20])(
    'reads the 42 records of the real protobuf capture in %i-byte chunks',
    (size) => {
      const records = decodeInChunks(binary, size);
      expect(records).toHaveLength(42);
      expect(records.reduce((sum, r) => sum + r.length, 0)).toBeLessThan(binary.length);
    },
  );

  it.each([1, 3, 100, 1 << 20])('reads the JSON stream in %i-byte chunks', (size) => {
    const events = decodeInChunks(json, size).map((r) => JSON.parse(r.toString('utf8')) as unknown);
    expect(events).toEqual(lines.map((line) => JSON.parse(line) as unknown));
    const types = events.map((e) => (e as { type: string }).type);
    expect(types.filter((t) => t === 'SUBSCRIBED')).toHaveLength(1);
    expect(types.filter((t) => t === 'HEARTBEAT')).toHaveLength(14);
    expect(types.filter((t) => t === 'OFFERS')).toHaveLength(27);
  });

  it('counts bytes, not characters, across a split multi-byte character', () => {
    const framed = Buffer.concat([encodeRecord('{"m":"zażółć"}'), encodeRecord('{"n":1}')]);
    const records = decodeInChunks(framed, 2).map((r) => r.toString('utf8'));
    expect(records).toEqual(['{"m":"zażółć"}', '{"n":1}']);
  });

  it('returns several records from one chunk and keeps a partial one', () => {
    const decoder = new RecordIoDecoder();
    const framed = Buffer.concat([encodeRecord('a'), encodeRecord('bb'), encodeRecord('ccc')]);
    expect(decoder.push(framed.subarray(0, framed.length - 1)).map(String)).toEqual(['a', 'bb']);
    expect(decoder.pendingBytes).toBe(2);
    expect(decoder.push(framed.subarray(framed.length - 1)).map(String)).toEqual(['ccc']);
  });

  it('accepts an empty record', () => {
    expect(new RecordIoDecoder().push(Buffer.from('0\n1\nx')).map(String)).toEqual(['', 'x']);
  });

  it.each(['12a\n', '-1\n', ' 5\n', '\n'])('rejects the prefix %j', (prefix) => {
    expect(() => new RecordIoDecoder().push(Buffer.from(prefix))).toThrow(RecordIoError);
  });

  it('rejects a prefix that never ends and a record over the size bound', () => {
    expect(() => new RecordIoDecoder().push(Buffer.from('1234567890'))).toThrow(/too long/);
    expect(() => new RecordIoDecoder().push(Buffer.from('99999999\n'))).toThrow(/too large/);
  });
});
