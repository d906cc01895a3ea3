/** Readers for one section of the original JSON config file (keys lower-cased on load). */
export type Section = Readonly<Record<string, unknown>>;
export type Env = Readonly<Record<string, string | undefined>>;

export function section(value: unknown): Section {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Section)
    : {};
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
