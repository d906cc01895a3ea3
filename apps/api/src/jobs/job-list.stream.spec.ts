import { sampleJob } from '@rhythm/jobs/testing/job-fixtures';
import { jobListBody } from './job-list.stream';
import { presentJob } from './job.presenter';

async function text(jobs: Parameters<typeof jobListBody>[0]): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of jobListBody(jobs).getStream()) {
    chunks.push(Buffer.from(chunk as string));
  }
  return Buffer.concat(chunks).toString('utf8');
}

describe('jobListBody', () => {
  it.each([0, 1, 255, 256, 257, 600])('writes %i jobs as one JSON array, in order', async (n) => {
    const jobs = Array.from({ length: n }, (_, i) => sampleJob('g', 'p', `job-${i}`));
    const body = await text(jobs);
    expect(JSON.parse(body)).toEqual(JSON.parse(JSON.stringify(jobs.map(presentJob))));
  });

  it('declares JSON', () => {
    expect(jobListBody([]).getHeaders().type).toBe('application/json; charset=utf-8');
  });
});
