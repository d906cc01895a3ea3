import type { Resource } from '../wire/mesos-messages';
import { takeResources } from './resource-fit';

const scalar = (name: string, value: number, role?: string): Resource => ({
  name,
  type: 'SCALAR',
  scalar: { value },
  ...(role ? { reservations: [{ type: 'STATIC', role }] } : {}),
});

describe('takeResources', () => {
  it('takes what a run needs and leaves the rest', () => {
    const fit = takeResources(
      [scalar('cpus', 2), scalar('mem', 1024), scalar('disk', 100)],
      { cpus: 0.5, mem: 128, disk: 10 },
      ['*'],
    );
    expect(fit?.taken).toEqual([scalar('cpus', 0.5), scalar('mem', 128), scalar('disk', 10)]);
    expect(fit?.left).toEqual([scalar('cpus', 1.5), scalar('mem', 896), scalar('disk', 90)]);
  });

  it('asks for no disk when the job needs none', () => {
    const fit = takeResources(
      [scalar('cpus', 1), scalar('mem', 64)],
      { cpus: 1, mem: 64, disk: 0 },
      ['*'],
    );
    expect(fit?.taken.map((r) => r.name)).toEqual(['cpus', 'mem']);
    expect(fit?.left).toEqual([]);
  });

  it('refuses an offer that cannot hold the run', () => {
    expect(
      takeResources([scalar('cpus', 1), scalar('mem', 64)], { cpus: 2, mem: 32, disk: 0 }, ['*']),
    ).toBeNull();
  });

  it("uses resources reserved for one of the framework's roles first, and never another role's", () => {
    const offer = [
      scalar('cpus', 4),
      scalar('cpus', 1, 'batch'),
      scalar('cpus', 8, 'other'),
      scalar('mem', 512),
    ];
    const fit = takeResources(offer, { cpus: 2, mem: 64, disk: 0 }, ['batch']);
    expect(fit?.taken).toEqual([scalar('cpus', 1, 'batch'), scalar('cpus', 1), scalar('mem', 64)]);
    expect(takeResources(offer, { cpus: 6, mem: 64, disk: 0 }, ['batch'])).toBeNull();
  });

  it('keeps three decimals, as Mesos scalars do', () => {
    const fit = takeResources(
      [scalar('cpus', 1), scalar('mem', 64)],
      { cpus: 0.1, mem: 1, disk: 0 },
      ['*'],
    );
    expect(fit?.left[0]).toEqual(scalar('cpus', 0.9));
  });
});
