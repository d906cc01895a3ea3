import { formatUnixDate } from './unix-date';

describe(formatUnixDate.name, () => {
  it('pads the day with a space, as Go does', () => {
    expect(formatUnixDate(new Date('2018-11-07T20:15:49Z'), 'UTC')).toBe(
      'Wed Nov  7 20:15:49 UTC 2018',
    );
  });

  it('uses the zone abbreviation and local time', () => {
    expect(formatUnixDate(new Date('2018-10-24T18:54:08Z'), 'America/New_York')).toBe(
      'Wed Oct 24 14:54:08 EDT 2018',
    );
  });
});
