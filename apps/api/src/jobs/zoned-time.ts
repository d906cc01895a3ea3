/** One formatter per time zone: building an Intl.DateTimeFormat costs about 100 µs. */
const FORMATTERS = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = FORMATTERS.get(timezone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    FORMATTERS.set(timezone, formatter);
  }
  return formatter;
}

/** RFC 3339 local time of `instant` in `timezone`, with its UTC offset, e.g. `2026-03-29T12:00:00+02:00`. */
export function zonedTime(instant: Date, timezone: string): string {
  const parts: Record<string, string> = {};
  for (const { type, value } of formatterFor(timezone).formatToParts(instant)) parts[type] = value;
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  const wholeSeconds = Math.floor(instant.getTime() / 1000) * 1000;
  const offsetMinutes = Math.round((Date.parse(`${local}Z`) - wholeSeconds) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${offsetMinutes === 0 ? 'Z' : offset}`;
}
