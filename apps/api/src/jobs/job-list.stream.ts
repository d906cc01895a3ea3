import { StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import type { Job } from '@rhythm/jobs';
import { presentJob } from './job.presenter';

/** Jobs serialised per slice: small enough to bound memory, large enough to keep writes few. */
const SLICE = 256;

/**
 * A list answer written slice by slice as the socket takes it. Each job is presented just before
 * it is written, so a list of 17,500 jobs never exists as presented objects, one 8 MB string and
 * its Buffer copy at once: the garbage that made lists the memory peak.
 */
export function jobListBody(jobs: readonly Job[]): StreamableFile {
  let next = 0;
  const body = new Readable({
    read() {
      if (next >= jobs.length) {
        this.push(next === 0 ? '[]' : ']');
        this.push(null);
        return;
      }
      const slice = jobs.slice(next, next + SLICE).map((job) => JSON.stringify(presentJob(job)));
      this.push(`${next === 0 ? '[' : ','}${slice.join(',')}`);
      next += SLICE;
    },
  });
  return new StreamableFile(body, { type: 'application/json; charset=utf-8' });
}
