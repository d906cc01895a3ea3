import type { Resource } from '../../infrastructure/wire/mesos-messages';

/** The reservation "role" of unreserved resources. */
export const UNRESERVED = '*';

/** One scalar amount of a named resource, unreserved (`*`) or statically reserved for a role. */
export interface ScalarEntry {
  name: string;
  /** `*` for unreserved, else the role the resource is statically reserved for. */
  reservation: string;
  value: number;
}

/** How resources are written for one framework (`Resource Format` in mesos.proto). */
export interface ResourceFormat {
  /** Set `allocation_info.role` (offers to MULTI_ROLE frameworks, allocated resources). */
  allocationRole?: string;
  /** RESERVATION_REFINEMENT frameworks get `reservations`, the others `role`. */
  refinement: boolean;
}

/** The allocator's smallest offer (master flag `--min_allocatable_resources` default). */
const MIN_CPUS = 0.01;
const MIN_MEM_MB = 32;

const NAME_ORDER = ['cpus', 'mem', 'disk'];
const SEPARATOR = '\u0000';

/**
 * Scalar resources kept in thousandths, the fixed point Mesos itself uses ("three decimal digits of
 * precision"), so repeated add and subtract never drift.
 */
export class ScalarResources {
  private constructor(private readonly milli: ReadonlyMap<string, number>) {}

  static empty(): ScalarResources {
    return new ScalarResources(new Map());
  }

  static of(entries: Iterable<ScalarEntry>): ScalarResources {
    const milli = new Map<string, number>();
    for (const entry of entries) {
      const amount = Math.round(entry.value * 1000);
      if (amount <= 0) continue;
      const key = entry.name + SEPARATOR + entry.reservation;
      milli.set(key, (milli.get(key) ?? 0) + amount);
    }
    return new ScalarResources(milli);
  }

  entries(): ScalarEntry[] {
    return [...this.milli.entries()]
      .map(([key, amount]) => {
        const [name, reservation] = key.split(SEPARATOR);
        return { name, reservation, value: amount / 1000 };
      })
      .sort(compareEntries);
  }

  isEmpty(): boolean {
    return this.milli.size === 0;
  }

  plus(other: ScalarResources): ScalarResources {
    const milli = new Map(this.milli);
    for (const [key, amount] of other.milli) milli.set(key, (milli.get(key) ?? 0) + amount);
    return new ScalarResources(milli);
  }

  /** Subtracts, dropping what reaches zero (callers subtract only what they know is contained). */
  minus(other: ScalarResources): ScalarResources {
    const milli = new Map(this.milli);
    for (const [key, amount] of other.milli) {
      const left = (milli.get(key) ?? 0) - amount;
      if (left > 0) milli.set(key, left);
      else milli.delete(key);
    }
    return new ScalarResources(milli);
  }

  contains(other: ScalarResources): boolean {
    for (const [key, amount] of other.milli) {
      if ((this.milli.get(key) ?? 0) < amount) return false;
    }
    return true;
  }

  /** What a framework in `role` may be offered: unreserved plus what is reserved for `role`. */
  offerableTo(role: string): ScalarResources {
    const milli = new Map<string, number>();
    for (const [key, amount] of this.milli) {
      const reservation = key.split(SEPARATOR)[1];
      if (reservation === UNRESERVED || reservation === role) milli.set(key, amount);
    }
    return new ScalarResources(milli);
  }

  /** Total of one resource name across reservations. */
  amount(name: string): number {
    let total = 0;
    for (const entry of this.entries()) if (entry.name === name) total += entry.value;
    return total;
  }

  /** The allocator's `allocatable()` check, so it never sends crumbs. */
  isAllocatable(): boolean {
    return this.amount('cpus') >= MIN_CPUS || this.amount('mem') >= MIN_MEM_MB;
  }

  toProto(format: ResourceFormat): Resource[] {
    return this.entries().map((entry) => scalarResource(entry, format));
  }

  /** The master's `stringify(Resources)` shape, used in TASK_ERROR messages. */
  describe(allocationRole: string): string {
    return this.entries()
      .map((entry) => {
        const reservation =
          entry.reservation === UNRESERVED ? '' : `reservations: [(STATIC,${entry.reservation})], `;
        return `${entry.name}(${reservation}allocated: ${allocationRole}):${entry.value}`;
      })
      .join('; ');
  }
}

function compareEntries(a: ScalarEntry, b: ScalarEntry): number {
  const rank = (name: string) => {
    const at = NAME_ORDER.indexOf(name);
    return at < 0 ? NAME_ORDER.length : at;
  };
  return (
    rank(a.name) - rank(b.name) ||
    a.name.localeCompare(b.name) ||
    Number(a.reservation !== UNRESERVED) - Number(b.reservation !== UNRESERVED) ||
    a.reservation.localeCompare(b.reservation)
  );
}

/** One `Resource`, fields in `.proto` declaration order like the master's JSON writer. */
function scalarResource(entry: ScalarEntry, format: ResourceFormat): Resource {
  const resource: Resource = { name: entry.name, type: 'SCALAR', scalar: { value: entry.value } };
  if (!format.refinement) resource.role = entry.reservation;
  if (format.allocationRole !== undefined) {
    resource.allocation_info = { role: format.allocationRole };
  }
  if (format.refinement && entry.reservation !== UNRESERVED) {
    resource.reservations = [{ type: 'STATIC', role: entry.reservation }];
  }
  return resource;
}

/** Task resources as the master reads them from a `TaskInfo`. */
export interface RequestedResources {
  scalars: ScalarResources;
  /** Allocation roles named by the resources (`allocation_info.role`). */
  allocationRoles: Set<string>;
  /** Non-scalar resources (ports, sets): no agent here has any, so such a task cannot fit. */
  unsupported: string[];
}

export function readRequestedResources(resources: readonly Resource[]): RequestedResources {
  const entries: ScalarEntry[] = [];
  const allocationRoles = new Set<string>();
  const unsupported: string[] = [];
  for (const resource of resources) {
    if (resource.allocation_info?.role !== undefined) {
      allocationRoles.add(resource.allocation_info.role);
    }
    if (resource.type !== 'SCALAR' || resource.scalar === undefined) {
      unsupported.push(resource.name);
      continue;
    }
    entries.push({
      name: resource.name,
      reservation: reservationOf(resource),
      value: resource.scalar.value,
    });
  }
  return { scalars: ScalarResources.of(entries), allocationRoles, unsupported };
}

/** The innermost reservation, in either format; `*` when unreserved. */
function reservationOf(resource: Resource): string {
  const stack = resource.reservations ?? [];
  const innermost = stack.length > 0 ? stack[stack.length - 1].role : undefined;
  if (innermost !== undefined) return innermost;
  return resource.role ?? UNRESERVED;
}
