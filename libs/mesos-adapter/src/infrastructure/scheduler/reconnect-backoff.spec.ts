import { ReconnectBackoff } from './reconnect-backoff';

describe('ReconnectBackoff', () => {
  it('doubles the ceiling per failure up to the maximum (full jitter at its top)', () => {
    const backoff = new ReconnectBackoff({
      initialMs: 100,
      maxMs: 1000,
      jitter: 'full',
      random: () => 1,
    });
    expect([1, 2, 3, 4, 5, 6].map(() => backoff.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('starts over after reset', () => {
    const backoff = new ReconnectBackoff({ initialMs: 100, maxMs: 1000, random: () => 1 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });

  it('full jitter can go down to zero; equal jitter keeps at least half the ceiling', () => {
    const full = new ReconnectBackoff({ initialMs: 100, jitter: 'full', random: () => 0 });
    const equal = new ReconnectBackoff({ initialMs: 100, jitter: 'equal', random: () => 0 });
    expect(full.next()).toBe(0);
    expect(equal.next()).toBe(50);
    expect(equal.next()).toBe(100);
  });

  it('defaults to 500 ms growing to 15 s', () => {
    const backoff = new ReconnectBackoff({ random: () => 1 });
    const delays = Array.from({ length: 12 }, () => backoff.next());
    expect(delays[0]).toBe(500);
    expect(delays[1]).toBe(1000);
    expect(Math.max(...delays)).toBe(15_000);
  });

  it('never overflows after a very long outage', () => {
    const backoff = new ReconnectBackoff({ initialMs: 1, maxMs: 60_000, random: () => 1 });
    let last = 0;
    for (let i = 0; i < 5000; i++) last = backoff.next();
    expect(last).toBe(60_000);
  });

  it('rejects nonsensical limits', () => {
    expect(() => new ReconnectBackoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new ReconnectBackoff({ initialMs: 100, maxMs: 50 })).toThrow(RangeError);
  });
});
