/** Letters, digits, `-` and `_`: the original Rhythm's rule for group, project and job names. */
export const JOB_NAME_PATTERN = /^[a-zA-Z0-9-_]+$/;

/** A job is addressed by group, project and id, as in `GET /api/v1/jobs/{group}/{project}/{id}`. */
export interface JobId {
  readonly group: string;
  readonly project: string;
  readonly id: string;
}

/** Names never contain `/`, so the path form is an unambiguous key that also sorts by group, then project. */
export function jobKey(jobId: JobId): string {
  return `${jobId.group}/${jobId.project}/${jobId.id}`;
}

export function parseJobKey(key: string): JobId {
  const [group, project, id] = key.split('/');
  return { group, project, id };
}

export function isValidJobName(name: string): boolean {
  return JOB_NAME_PATTERN.test(name);
}

/** Narrows a listing: nothing (all jobs), a group, or a group and project. */
export interface JobFilter {
  readonly group?: string;
  readonly project?: string;
}

/** The key prefix shared by every job the filter selects (`''` selects all). */
export function jobKeyPrefix(filter: JobFilter): string {
  if (filter.group === undefined) return '';
  if (filter.project === undefined) return `${filter.group}/`;
  return `${filter.group}/${filter.project}/`;
}
