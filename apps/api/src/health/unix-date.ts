/**
 * Formats a time like Go's `time.UnixDate` (`Mon Jan _2 15:04:05 MST 2006`), the format of the
 * original Rhythm's ServerTime, in the server's local time zone.
 */
export function formatUnixDate(date: Date, timeZone?: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      year: 'numeric',
      hourCycle: 'h23',
      timeZoneName: 'short',
    })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  const day = parts.day.padStart(2, ' ');
  return `${parts.weekday} ${parts.month} ${day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName} ${parts.year}`;
}
