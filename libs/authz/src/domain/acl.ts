import type { AccessLevel, ProjectRef } from './access-level';

/**
 * The original Rhythm's ACL form: keys `group/project`, `group` or `*`, each `readonly` or
 * `readwrite`. The most specific key present decides, in that order.
 */
export type Acl = Readonly<Record<string, AccessLevel>>;

export function aclLevel(acl: Acl | undefined, { group, project }: ProjectRef): AccessLevel {
  if (!acl) return 'none';
  // Own keys only: a group named `constructor` must not find Object.prototype's.
  const rule = (key: string) => (Object.hasOwn(acl, key) ? acl[key] : undefined);
  return rule(`${group}/${project}`) ?? rule(group) ?? rule('*') ?? 'none';
}
