import type { Resource } from '../wire/mesos-messages';

/** What one run asks of an agent. Disk 0 asks for none (the resource is left out). */
export interface ResourceNeed {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
}

const NAMES = ['cpus', 'mem', 'disk'] as const;
/** Scalars are fixed-point with three decimals in Mesos; compare with that tolerance. */
const EPSILON = 0.0005;

/** The role a resource is reserved for (innermost reservation), or null when unreserved. */
function reservedRole(resource: Resource): string | null {
  const stack = resource.reservations ?? [];
  if (stack.length > 0) return stack[stack.length - 1]?.role ?? null;
  if (resource.role !== undefined && resource.role !== '*') return resource.role;
  return null;
}

/**
 * Takes `need` out of an offer's remaining resources. Resources reserved for one of the
 * framework's roles are used first, then unreserved ones; a need is never split across
 * reservations of one name more than necessary. Returns the resources for the TaskInfo (with the
 * offer's allocation and reservation info kept, as the master requires) and what is left, or null
 * when the offer cannot hold the need.
 */
export function takeResources(
  remaining: readonly Resource[],
  need: ResourceNeed,
  roles: readonly string[],
): { readonly taken: Resource[]; readonly left: Resource[] } | null {
  let left = remaining.map((resource) => ({ ...resource }));
  const taken: Resource[] = [];
  for (const name of NAMES) {
    let wanted = need[name];
    if (wanted <= 0) continue;
    const candidates = left
      .map((resource, index) => ({ resource, index }))
      .filter(({ resource }) => resource.name === name && resource.type === 'SCALAR')
      .filter(({ resource }) => {
        const role = reservedRole(resource);
        return role === null || roles.includes(role);
      })
      // Reserved for us first: using them spares the shared pool.
      .sort(
        (a, b) =>
          Number(reservedRole(a.resource) === null) - Number(reservedRole(b.resource) === null),
      );
    for (const { index } of candidates) {
      if (wanted <= EPSILON) break;
      const resource = left[index];
      const available = resource.scalar?.value ?? 0;
      const use = Math.min(available, wanted);
      if (use <= EPSILON) continue;
      taken.push({ ...resource, scalar: { value: round(use) } });
      left[index] = { ...resource, scalar: { value: round(available - use) } };
      wanted -= use;
    }
    if (wanted > EPSILON) return null;
  }
  left = left.filter(
    (resource) => resource.type !== 'SCALAR' || (resource.scalar?.value ?? 0) > EPSILON,
  );
  return { taken, left };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
