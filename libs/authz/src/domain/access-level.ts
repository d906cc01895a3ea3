/** What a caller may do with a group/project: nothing, read (jobs, tasks, logs), or also change. */
export type AccessLevel = 'none' | 'readonly' | 'readwrite';

const RANK: Readonly<Record<AccessLevel, number>> = { none: 0, readonly: 1, readwrite: 2 };

export function atLeast(level: AccessLevel, required: AccessLevel): boolean {
  return RANK[level] >= RANK[required];
}

export function highest(levels: Iterable<AccessLevel>): AccessLevel {
  let best: AccessLevel = 'none';
  for (const level of levels) if (RANK[level] > RANK[best]) best = level;
  return best;
}

export function isAccessLevel(value: unknown): value is AccessLevel {
  return value === 'none' || value === 'readonly' || value === 'readwrite';
}

/** The group and project a decision is about. */
export interface ProjectRef {
  readonly group: string;
  readonly project: string;
}
