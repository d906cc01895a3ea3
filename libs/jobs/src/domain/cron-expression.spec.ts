import { Cron } from 'croner';
import { CronExpression, InvalidCronExpressionError } from './cron-expression';

const FROM = new Date('2026-01-01T00:00:00Z'); // a Thursday

function next(expression: string, from = FROM): string | undefined {
  return CronExpression.parse(expression).nextAfter(from)?.toISOString();
}

describe(CronExpression.name, () => {
  it.each([
    ['*/1 * * * *', '2026-01-01T00:01:00.000Z'],
    ['*/15 * * * *', '2026-01-01T00:15:00.000Z'],
    ['0 9 * * MON-FRI', '2026-01-01T09:00:00.000Z'],
    ['0 12 ? * sat', '2026-01-03T12:00:00.000Z'],
    ['30 6 1 feb *', '2026-02-01T06:30:00.000Z'],
    ['5/20 * * * *', '2026-01-01T00:05:00.000Z'],
    ['10-20/5 3 * * *', '2026-01-01T03:10:00.000Z'],
    // day of month and day of week both restricted: either matches (Vixie OR)
    ['0 0 15 * 1', '2026-01-05T00:00:00.000Z'],
    ['0 0 29 2 *', '2028-02-29T00:00:00.000Z'],
    ['0 0 * * 0', '2026-01-04T00:00:00.000Z'],
  ])('%s fires next at %s', (expression, expected) => {
    expect(next(expression)).toBe(expected);
  });

  it('fires strictly after the given instant', () => {
    expect(next('0 0 * * *', new Date('2026-01-02T00:00:00Z'))).toBe('2026-01-03T00:00:00.000Z');
  });

  it.each([
    ['', 'expected exactly 5 fields, found 0'],
    ['* * * *', 'expected exactly 5 fields, found 4'],
    ['0 * * * * *', 'expected exactly 5 fields, found 6'],
    ['@daily', 'expected exactly 5 fields'],
    ['61 * * * *', 'minute 61 outside 0-59'],
    ['* 24 * * *', 'hour 24 outside 0-23'],
    ['* * 0 * *', 'day of month 0 outside 1-31'],
    ['* * * 13 *', 'month 13 outside 1-12'],
    ['* * * * 7', 'day of week 7 outside 0-6'],
    ['0 0 L * *', "bad day of month 'l'"],
    ['0 0 15W * *', "bad day of month '15w'"],
    ['0 0 * * 5#2', "bad day of week '5#2'"],
    ['0 0 * * mon-sun', "bad day of week range 'mon-sun'"],
    ['*/0 * * * *', "bad minute step '0'"],
    ['0 0 30 2 *', 'it never fires'],
    ['0 0 31 4,6 *', 'it never fires'],
  ])('rejects %j (%s)', (expression, reason) => {
    expect(() => CronExpression.parse(expression)).toThrow(InvalidCronExpressionError);
    expect(() => CronExpression.parse(expression)).toThrow(reason);
  });

  it('evaluates in the given time zone', () => {
    const warsaw = CronExpression.parse('0 9 * * *', 'Europe/Warsaw');
    expect(warsaw.nextAfter(FROM)?.toISOString()).toBe('2026-01-01T08:00:00.000Z');
  });

  it('reports validity without throwing', () => {
    expect(CronExpression.isValid('*/5 * * * *')).toBe(true);
    expect(CronExpression.isValid('nonsense')).toBe(false);
  });

  it('answers every instant of a minute like croner does, also across daylight-saving days', () => {
    const cases: Array<[string, string]> = [
      ['30 2 * * *', 'Europe/Warsaw'],
      ['*/7 1-3 * * *', 'America/New_York'],
      ['0 0 29 2 *', 'UTC'],
      ['15 */2 1,15 * mon', 'Asia/Kolkata'],
    ];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (const [expression, timezone] of cases) {
      const memoised = CronExpression.parse(expression, timezone);
      const reference = new Cron(expression, { timezone, paused: true });
      for (let i = 0; i < 300; i++) {
        // Instants clustered around DST changes of 2027, some on exact minute boundaries.
        const base = Date.parse(i % 2 ? '2027-03-27T20:00:00Z' : '2027-10-30T20:00:00Z');
        const offset = Math.floor(random() * 12 * 3600 * 1000);
        const instant = new Date(
          i % 5 === 0 ? base + Math.floor(offset / 60_000) * 60_000 : base + offset,
        );
        expect(memoised.nextAfter(instant)?.toISOString()).toBe(
          reference.nextRun(instant)?.toISOString(),
        );
      }
    }
  });
});
