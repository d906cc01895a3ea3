import { readFileSync } from 'node:fs';
import { buildOpenApiDocument } from '../apps/api/src/http/openapi';
import { openApiFile, serializeOpenApi } from '../apps/api/src/http/openapi-file';
import { startTestApp, type TestApp } from './support/test-app';

describe('openapi/openapi.json', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp('embedded');
  });

  afterAll(async () => {
    await testApp.close();
  });

  it('matches the document generated from the code (run `npm run openapi` when this fails)', () => {
    const generated = serializeOpenApi(buildOpenApiDocument(testApp.app));
    const committed = readFileSync(openApiFile(__dirname), 'utf8');
    expect(committed).toBe(generated);
  });

  it('documents the request fields in lower case and the response fields Go-style', () => {
    const document = JSON.parse(readFileSync(openApiFile(__dirname), 'utf8'));
    const create = document.components.schemas.CreateJobDto;
    expect(create.required).toEqual(expect.arrayContaining(['group', 'project', 'id', 'schedule']));
    // Required unless the job names a runner: the document says so where it cannot in `required`.
    for (const field of ['container', 'cpus', 'mem']) {
      expect(create.properties[field].description).toContain('Optional for jobs with a `runner`');
    }
    expect(create.properties.group.pattern).toBe('^[a-zA-Z0-9-_]+$');
    expect(create.properties.maxretries).toMatchObject({ type: 'integer', minimum: 0 });
    const job = document.components.schemas.JobResponseDto;
    expect(Object.keys(job.properties)).toEqual(
      expect.arrayContaining(['Group', 'CPUs', 'LastStart', 'State']),
    );
    expect(document.paths['/api/v1/jobs'].post.responses['409']).toBeDefined();
  });
});
