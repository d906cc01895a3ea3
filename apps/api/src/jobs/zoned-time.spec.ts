import { zonedTime } from './zoned-time';

describe(zonedTime.name, () => {
  it.each([
    ['2026-01-15T11:00:00Z', 'Europe/Warsaw', '2026-01-15T12:00:00+01:00'],
    ['2026-07-15T10:00:00Z', 'Europe/Warsaw', '2026-07-15T12:00:00+02:00'],
    ['2026-03-08T07:30:00Z', 'America/New_York', '2026-03-08T03:30:00-04:00'],
    ['2026-03-08T06:59:59Z', 'America/New_York', '2026-03-08T01:59:59-05:00'],
    ['2026-06-01T00:00:00Z', 'Asia/Kolkata', '2026-06-01T05:30:00+05:30'],
    ['2026-06-01T00:00:00Z', 'UTC', '2026-06-01T00:00:00Z'],
    ['2026-12-31T23:59:59.900Z', 'Pacific/Kiritimati', '2027-01-01T13:59:59+14:00'],
  ])('shows %s in %s as %s', (instant, timezone, expected) => {
    expect(zonedTime(new Date(instant), timezone)).toBe(expected);
  });
});
