import { SAMPLE_SPEC, sampleJob } from '../testing/job-fixtures';
import { applyJobPatch, INITIAL_RUNTIME, newJob, upcomingFireTimes } from './job';
import { JobsError, JobsErrorCode } from './jobs.errors';

describe(applyJobPatch.name, () => {
  const mesosJob = sampleJob('g', 'p', 'a', {
    container: { type: 'Mesos', mesos: { image: 'm' } },
  });

  it('keeps absent fields and replaces maps and lists whole', () => {
    const job = sampleJob('g', 'p', 'a', { env: { A: '1', B: '2' }, arguments: ['x'] });
    const patched = applyJobPatch(job, { env: { C: '3' }, arguments: [], cpus: 2 });
    expect(patched).toEqual({ ...job, env: { C: '3' }, arguments: [], cpus: 2 });
  });

  it('sets a new cron schedule', () => {
    expect(applyJobPatch(mesosJob, { schedule: { cron: '0 * * * *' } }).schedule).toEqual({
      type: 'Cron',
      cron: '0 * * * *',
    });
  });

  it('switches to Docker only with an image, keeping the flag when only the image changes', () => {
    expect(() =>
      applyJobPatch(mesosJob, { container: { docker: { forcePullImage: true } } }),
    ).toThrow(JobsError);
    const docker = applyJobPatch(mesosJob, {
      container: { docker: { image: 'd', forcePullImage: true } },
    });
    expect(docker.container).toEqual({
      type: 'Docker',
      docker: { image: 'd', forcePullImage: true },
    });
    expect(applyJobPatch(docker, { container: { docker: { image: 'e' } } }).container).toEqual({
      type: 'Docker',
      docker: { image: 'e', forcePullImage: true },
    });
  });

  it('prefers Docker when both containers are given', () => {
    const patched = applyJobPatch(mesosJob, {
      container: { docker: { image: 'd' }, mesos: { image: 'n' } },
    });
    expect(patched.container.type).toBe('Docker');
  });

  it('reports a missing Docker image as an invalid job', () => {
    try {
      applyJobPatch(mesosJob, { container: { docker: {} } });
      throw new Error('expected a JobsError');
    } catch (error) {
      expect(error).toMatchObject({
        code: JobsErrorCode.INVALID_JOB,
        details: ['container.docker.image is required'],
      });
    }
  });

  it('never touches the runtime or the identity', () => {
    const job = newJob(
      { group: 'g', project: 'p', id: 'a' },
      SAMPLE_SPEC,
      new Date('2026-01-01T00:00:30Z'),
      'UTC',
    );
    const patched = applyJobPatch(job, { cmd: 'new' });
    expect(patched.jobId).toEqual({ group: 'g', project: 'p', id: 'a' });
    expect(patched.runtime).toEqual({
      ...INITIAL_RUNTIME,
      nextFireAt: new Date('2026-01-01T00:01:00Z'),
    });
  });
});

describe('pauseAfterFailures in a patch', () => {
  it('sets it, keeps it when absent, and removes it with 0', () => {
    const set = applyJobPatch(sampleJob('g', 'p', 'j'), { pauseAfterFailures: 3 });
    expect(set.pauseAfterFailures).toBe(3);
    expect(applyJobPatch(set, { cmd: 'true' }).pauseAfterFailures).toBe(3);
    const cleared = applyJobPatch(set, { pauseAfterFailures: 0 });
    expect('pauseAfterFailures' in cleared).toBe(false);
  });
});

describe(upcomingFireTimes.name, () => {
  const at = (iso: string) => new Date(iso);
  const withCron = (cron: string, timezone?: string) => ({
    ...SAMPLE_SPEC,
    schedule: { ...SAMPLE_SPEC.schedule, cron, ...(timezone && { timezone }) },
  });

  it('lists occurrences strictly after the instant, in order, in the job time zone', () => {
    const times = upcomingFireTimes(
      withCron('0 12 * * *', 'Europe/Warsaw'),
      at('2026-03-28T11:00:00Z'), // 12:00 in Warsaw: not itself an upcoming occurrence
      3,
      'UTC',
    );
    // Summer time starts on 2026-03-29: noon in Warsaw moves from 11:00 to 10:00 UTC.
    expect(times).toEqual([
      at('2026-03-29T10:00:00Z'),
      at('2026-03-30T10:00:00Z'),
      at('2026-03-31T10:00:00Z'),
    ]);
  });

  it('uses the default time zone for a job that names none', () => {
    expect(
      upcomingFireTimes(withCron('0 12 * * *'), at('2026-07-01T00:00:00Z'), 1, 'Asia/Tokyo'),
    ).toEqual([at('2026-07-01T03:00:00Z')]);
  });

  it('finds rare occurrences years apart, and none for a count of 0', () => {
    const leapDays = withCron('0 0 29 2 *');
    expect(upcomingFireTimes(leapDays, at('2026-01-01T00:00:00Z'), 2, 'UTC')).toEqual([
      at('2028-02-29T00:00:00Z'),
      at('2032-02-29T00:00:00Z'),
    ]);
    expect(upcomingFireTimes(leapDays, at('2026-01-01T00:00:00Z'), 0, 'UTC')).toEqual([]);
  });
});
