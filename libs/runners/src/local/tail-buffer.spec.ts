import { TailBuffer } from './tail-buffer';

describe('TailBuffer', () => {
  it('keeps everything while under capacity', () => {
    const buffer = new TailBuffer(8);
    buffer.write(Buffer.from('abc'));
    buffer.write(Buffer.from('de'));

    expect(buffer.contents().toString()).toBe('abcde');
    expect(buffer.size).toBe(5);
    expect(buffer.windowStart).toBe(0);
  });

  it('keeps the last bytes across wrap-arounds and oversized chunks', () => {
    const buffer = new TailBuffer(8);
    buffer.write(Buffer.from('abcdef'));
    buffer.write(Buffer.from('ghij'));
    expect(buffer.contents().toString()).toBe('cdefghij');

    buffer.write(Buffer.from('0123456789xyz'));
    expect(buffer.contents().toString()).toBe('6789xyz'.padStart(8, '5'));
    expect(buffer.size).toBe(23);
    expect(buffer.windowStart).toBe(15);
  });

  it('matches the tail of everything written, for many chunk sizes', () => {
    let seed = 7;
    const random = (max: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % max;
    };
    for (const capacity of [1, 5, 64, 1000]) {
      const buffer = new TailBuffer(capacity);
      let all = '';
      for (let i = 0; i < 300; i += 1) {
        const chunk = Array.from({ length: random(capacity * 2 + 3) }, () =>
          String.fromCharCode(97 + random(26)),
        ).join('');
        buffer.write(Buffer.from(chunk));
        all += chunk;
        expect(buffer.contents().toString()).toBe(all.slice(-capacity));
      }
      expect(buffer.size).toBe(all.length);
    }
  });

  it('keeps nothing with a capacity of zero but still counts', () => {
    const buffer = new TailBuffer(0);
    buffer.write(Buffer.from('abc'));

    expect(buffer.contents().length).toBe(0);
    expect(buffer.size).toBe(3);
    expect(buffer.windowStart).toBe(3);
  });
});
