import type { Filters } from '../../infrastructure/wire/mesos-messages';
import type { ScalarResources } from './resources';

/**
 * The hierarchical allocator, reduced to what a framework can observe: every cycle each agent's
 * unallocated resources go to one framework role at a time (lowest share first), a framework gets
 * at most one offer per agent per cycle, suppressed roles and refusal filters are skipped, and an
 * agent's resources below the minimum allocatable amount are not offered.
 */

/** Default of `Filters.refuse_seconds` and the master's cap of it. */
const DEFAULT_REFUSE_SECONDS = 5;
const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

export interface AllocationCandidate {
  frameworkId: string;
  /** Roles that may receive offers now (subscribed and not suppressed), in order. */
  roles: string[];
  /** Dominant share of the cluster the framework holds; lower shares go first. */
  share: number;
}

export interface AgentAvailability {
  agentId: string;
  /** Total minus what tasks use and outstanding offers hold. */
  available: ScalarResources;
}

export interface Allocation {
  frameworkId: string;
  agentId: string;
  role: string;
  resources: ScalarResources;
}

interface RefusalFilter {
  agentId: string;
  role: string;
  /** Offers contained in these resources are filtered; more resources lift the filter. */
  refused: ScalarResources;
  expiresAt: number;
}

/** `Filters.refuse_seconds` as the master reads it: default 5 s, negative means default, capped. */
export function refuseSeconds(filters: Filters | undefined): number {
  const value = filters?.refuse_seconds;
  if (value === undefined || value < 0 || Number.isNaN(value)) return DEFAULT_REFUSE_SECONDS;
  return Math.min(value, MAX_REFUSE_SECONDS);
}

export class Allocator {
  private readonly filters = new Map<string, RefusalFilter[]>();

  /** Remembers resources a framework declined (or left unused) on an agent, for `seconds`. */
  refuse(
    frameworkId: string,
    agentId: string,
    role: string,
    refused: ScalarResources,
    seconds: number,
    now: number,
  ): void {
    if (seconds <= 0 || refused.isEmpty()) return;
    const list = this.filters.get(frameworkId) ?? [];
    list.push({ agentId, role, refused, expiresAt: now + seconds * 1000 });
    this.filters.set(frameworkId, list);
  }

  /** REVIVE: drops the framework's filters for the given roles (all when omitted). */
  clearFilters(frameworkId: string, roles?: ReadonlySet<string>): void {
    if (roles === undefined) {
      this.filters.delete(frameworkId);
      return;
    }
    const kept = (this.filters.get(frameworkId) ?? []).filter((f) => !roles.has(f.role));
    this.filters.set(frameworkId, kept);
  }

  clear(): void {
    this.filters.clear();
  }

  activeFilters(frameworkId: string, now: number): number {
    return (this.filters.get(frameworkId) ?? []).filter((f) => f.expiresAt > now).length;
  }

  allocate(
    agents: readonly AgentAvailability[],
    candidates: readonly AllocationCandidate[],
    now: number,
  ): Allocation[] {
    this.expire(now);
    const order = [...candidates].sort((a, b) => a.share - b.share);
    const allocations: Allocation[] = [];
    for (const agent of shuffle(agents)) {
      let available = agent.available;
      for (const candidate of order) {
        for (const role of candidate.roles) {
          const offerable = available.offerableTo(role);
          if (!offerable.isAllocatable()) continue;
          if (this.isFiltered(candidate.frameworkId, agent.agentId, role, offerable)) continue;
          allocations.push({
            frameworkId: candidate.frameworkId,
            agentId: agent.agentId,
            role,
            resources: offerable,
          });
          available = available.minus(offerable);
          break;
        }
      }
    }
    return allocations;
  }

  private isFiltered(
    frameworkId: string,
    agentId: string,
    role: string,
    resources: ScalarResources,
  ): boolean {
    return (this.filters.get(frameworkId) ?? []).some(
      (filter) =>
        filter.agentId === agentId && filter.role === role && filter.refused.contains(resources),
    );
  }

  private expire(now: number): void {
    for (const [frameworkId, list] of this.filters) {
      const kept = list.filter((filter) => filter.expiresAt > now);
      if (kept.length > 0) this.filters.set(frameworkId, kept);
      else this.filters.delete(frameworkId);
    }
  }
}

/** The master shuffles agents each cycle so no agent is always first. */
function shuffle<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}
