import { Cron } from 'croner';

/**
 * The original Rhythm's cron dialect (robfig/cron v1 with five fields): minute, hour, day of month,
 * month, day of week. Each field is a comma list of `*`, `?`, `N`, `N-M`, each optionally stepped
 * with `/S`; months and weekdays also take three-letter names. Day of month and day of week combine
 * with OR when both are restricted (Vixie cron). No descriptors (`@daily`), no `L`, `W` or `#`, and
 * Sunday is 0 only: croner accepts all of those, so the dialect is checked here before croner runs.
 */
interface FieldRule {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldRule[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS },
];

const PART = /^(\*|\?|[a-z0-9]+(?:-[a-z0-9]+)?)(?:\/(\d+))?$/;

export class InvalidCronExpressionError extends Error {
  constructor(
    readonly expression: string,
    reason: string,
  ) {
    super(`Invalid cron expression '${expression}': ${reason}`);
    this.name = 'InvalidCronExpressionError';
  }
}

const PARSED = new Map<string, CronExpression>();
const MAX_PARSED = 10_000;

export class CronExpression {
  private readonly answers = new Map<number, Date | null>();

  private constructor(
    readonly source: string,
    private readonly cron: Cron,
  ) {}

  /**
   * Parses and checks an expression; throws InvalidCronExpressionError, also for one that never
   * fires. Parsed expressions are immutable and memoised: the API, the domain and the scheduler
   * ask for the same ones over and over.
   */
  static parse(source: string, timezone = 'UTC'): CronExpression {
    const key = `${timezone}\u0000${source}`;
    const cached = PARSED.get(key);
    if (cached) return cached;
    const parsed = CronExpression.parseUncached(source, timezone);
    if (PARSED.size >= MAX_PARSED) PARSED.delete(PARSED.keys().next().value as string);
    PARSED.set(key, parsed);
    return parsed;
  }

  private static parseUncached(source: string, timezone: string): CronExpression {
    const fields = source.trim().split(/\s+/).filter(Boolean);
    if (fields.length !== FIELDS.length) {
      throw new InvalidCronExpressionError(
        source,
        `expected exactly 5 fields, found ${fields.length}`,
      );
    }
    const normalized = fields.map((field, index) => normalizeField(source, field, FIELDS[index]));
    let cron: Cron;
    try {
      cron = new Cron(normalized.join(' '), { timezone, paused: true });
    } catch (error) {
      throw new InvalidCronExpressionError(source, (error as Error).message);
    }
    const expression = new CronExpression(source, cron);
    if (expression.nextAfter(new Date()) === null) {
      throw new InvalidCronExpressionError(source, 'it never fires');
    }
    return expression;
  }

  static isValid(source: string): boolean {
    try {
      CronExpression.parse(source);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The first fire time strictly after `instant`, or null when there is none. Fire times fall on
   * whole minutes, so every instant of one minute has the same answer: the few most recent
   * minutes asked about are remembered (croner takes about 50 µs a call with a time zone, and
   * thousands of jobs share one expression when they come due together).
   */
  nextAfter(instant: Date): Date | null {
    const minute = Math.floor(instant.getTime() / 60_000);
    if (this.answers.has(minute)) return cloneDate(this.answers.get(minute) ?? null);
    const next = this.cron.nextRun(new Date(minute * 60_000 + 59_999));
    if (this.answers.size >= MAX_ANSWERS) {
      this.answers.delete(this.answers.keys().next().value as number);
    }
    this.answers.set(minute, next);
    return cloneDate(next);
  }
}

const MAX_ANSWERS = 8;

function cloneDate(date: Date | null): Date | null {
  return date && new Date(date.getTime());
}

function normalizeField(source: string, field: string, rule: FieldRule): string {
  return field
    .toLowerCase()
    .split(',')
    .map((part) => normalizePart(source, part, rule))
    .join(',');
}

function normalizePart(source: string, part: string, rule: FieldRule): string {
  const match = PART.exec(part);
  if (!match) throw new InvalidCronExpressionError(source, `bad ${rule.name} '${part}'`);
  const [, range, step] = match;
  if (step !== undefined && Number(step) < 1) {
    throw new InvalidCronExpressionError(source, `bad ${rule.name} step '${step}'`);
  }
  if (range === '*' || range === '?') return step === undefined ? '*' : `*/${step}`;
  const [low, high] = range.split('-').map((value) => toNumber(source, value, rule));
  if (high !== undefined && high < low) {
    throw new InvalidCronExpressionError(source, `bad ${rule.name} range '${range}'`);
  }
  if (step === undefined) return high === undefined ? `${low}` : `${low}-${high}`;
  // robfig reads `N/S` as `N-max/S`; croner wants the range spelled out.
  return `${low}-${high ?? rule.max}/${step}`;
}

function toNumber(source: string, value: string, rule: FieldRule): number {
  const byName = rule.names?.indexOf(value) ?? -1;
  if (byName >= 0) return byName + rule.min;
  if (!/^\d+$/.test(value)) {
    throw new InvalidCronExpressionError(source, `bad ${rule.name} '${value}'`);
  }
  const number = Number(value);
  if (number < rule.min || number > rule.max) {
    throw new InvalidCronExpressionError(
      source,
      `${rule.name} ${number} outside ${rule.min}-${rule.max}`,
    );
  }
  return number;
}

const ZONE_ANSWERS = new Map<string, boolean>();
const MAX_ZONE_ANSWERS = 1_000;

/**
 * Whether the runtime knows the IANA time zone name (e.g. `Europe/Warsaw`). Memoised: building an
 * Intl.DateTimeFormat to find out costs about 100 µs, and every create and update asks.
 */
export function isValidTimezone(name: string): boolean {
  const known = ZONE_ANSWERS.get(name);
  if (known !== undefined) return known;
  let valid: boolean;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    valid = name.length > 0;
  } catch {
    valid = false;
  }
  if (ZONE_ANSWERS.size >= MAX_ZONE_ANSWERS) {
    ZONE_ANSWERS.delete(ZONE_ANSWERS.keys().next().value as string);
  }
  ZONE_ANSWERS.set(name, valid);
  return valid;
}
