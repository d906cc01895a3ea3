import { Allocator, refuseSeconds } from './allocator';
import { ScalarResources } from './resources';

const scalars = (cpus: number, mem: number, reservation = '*') =>
  ScalarResources.of([
    { name: 'cpus', reservation, value: cpus },
    { name: 'mem', reservation, value: mem },
  ]);

describe('Allocator', () => {
  const NOW = 1_000_000;
  const agents = [{ agentId: 'a1', available: scalars(4, 4096) }];

  it('gives an agent to the framework with the lowest share, one offer per agent', () => {
    const allocator = new Allocator();
    const allocations = allocator.allocate(
      agents,
      [
        { frameworkId: 'busy', roles: ['*'], share: 0.5 },
        { frameworkId: 'idle', roles: ['*'], share: 0 },
      ],
      NOW,
    );
    expect(allocations).toHaveLength(1);
    expect(allocations[0]).toMatchObject({ frameworkId: 'idle', agentId: 'a1', role: '*' });
    expect(allocations[0].resources.entries()).toEqual(scalars(4, 4096).entries());
  });

  it('refuses what was declined until the filter expires, unless more becomes available', () => {
    const allocator = new Allocator();
    const framework = [{ frameworkId: 'f', roles: ['*'], share: 0 }];
    allocator.refuse('f', 'a1', '*', scalars(4, 4096), 5, NOW);
    expect(allocator.allocate(agents, framework, NOW + 4_999)).toEqual([]);
    const more = [{ agentId: 'a1', available: scalars(5, 4096) }];
    expect(allocator.allocate(more, framework, NOW + 1)).toHaveLength(1);
    expect(allocator.allocate(agents, framework, NOW + 5_000)).toHaveLength(1);
  });

  it('clears filters of the revived roles only', () => {
    const allocator = new Allocator();
    allocator.refuse('f', 'a1', '*', scalars(4, 4096), 60, NOW);
    allocator.refuse('f', 'a1', 'eng', scalars(4, 4096), 60, NOW);
    allocator.clearFilters('f', new Set(['eng']));
    expect(allocator.activeFilters('f', NOW)).toBe(1);
    allocator.clearFilters('f');
    expect(allocator.activeFilters('f', NOW)).toBe(0);
  });

  it('does not offer less than the minimum allocatable resources', () => {
    const crumbs = [{ agentId: 'a1', available: scalars(0.001, 16) }];
    expect(
      new Allocator().allocate(crumbs, [{ frameworkId: 'f', roles: ['*'], share: 0 }], NOW),
    ).toEqual([]);
  });

  it('reads refuse_seconds as the master does', () => {
    expect(refuseSeconds(undefined)).toBe(5);
    expect(refuseSeconds({})).toBe(5);
    expect(refuseSeconds({ refuse_seconds: -1 })).toBe(5);
    expect(refuseSeconds({ refuse_seconds: 0 })).toBe(0);
    expect(refuseSeconds({ refuse_seconds: 3600 })).toBe(3600);
    expect(refuseSeconds({ refuse_seconds: 1e9 })).toBe(31_536_000);
  });
});
