/**
 * Request keys are lower case (and matched case-insensitively); error messages name fields the way
 * the original Rhythm did, in the Go-style capitals of its responses: `Container.Docker.Image`.
 */
const DISPLAY_NAMES: Readonly<Record<string, string>> = {
  id: 'ID',
  cpus: 'CPUs',
  maxretries: 'MaxRetries',
  forcepullimage: 'ForcePullImage',
  missedruns: 'MissedRuns',
  startingdeadline: 'StartingDeadline',
  maxcatchup: 'MaxCatchUp',
  retrybackoff: 'RetryBackoff',
  maxbackoff: 'MaxBackoff',
  pauseafterfailures: 'PauseAfterFailures',
  taskId: 'TaskID',
};

export function displayFieldPath(path: readonly string[]): string {
  return path
    .map(
      (key) =>
        DISPLAY_NAMES[key] ??
        (/^\d+$/.test(key) ? `[${key}]` : key.charAt(0).toUpperCase() + key.slice(1)),
    )
    .join('.')
    .replace(/\.\[/g, '[');
}

/** Objects whose keys are user data (environment names, labels) and keep their case. */
// Runner options keep their case too: a runner matches its option names itself (case-insensitively).
const DATA_MAP_KEYS: ReadonlySet<string> = new Set(['env', 'secrets', 'labels', 'runner']);

/** Lower-cases every structural key of a request body, leaving the keys of data maps alone. */
export function foldRequestKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(foldRequestKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const folded = key.toLowerCase();
      return [folded, DATA_MAP_KEYS.has(folded) ? inner : foldRequestKeys(inner)];
    }),
  );
}
