import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, getSchemaPath, type OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { DiscoveredRunnerRegistry } from '@rhythm/runners';

/** The API's OpenAPI document, generated from the controllers and DTOs (see openapi/openapi.json). */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Rhythm API')
    .setDescription(
      'Time-based job scheduler for Apache Mesos and AWS-style resources, wire-compatible with the ' +
        'Rhythm v1 API. Errors are always `{"Errors": ["..."]}`.',
    )
    .setVersion('v1')
    .addApiKey(
      {
        type: 'apiKey',
        in: 'header',
        name: 'X-Token',
        description: 'GitLab personal access token or a static token',
      },
      'token',
    )
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'LDAP user name and password' },
      'basic',
    )
    .build();
  const runners = [...app.get(DiscoveredRunnerRegistry).optionSchemas()].sort(([a], [b]) =>
    a.localeCompare(b),
  );
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
    extraModels: runners.flatMap(([, options]) => (options ? [options] : [])),
  });
  describeRunnerField(document, runners);
  return document;
}

/**
 * `runner` is `{kind, ...options}` where the options depend on the kind, and the runners are only
 * known once the app has discovered them: one alternative per registered runner.
 */
function describeRunnerField(
  document: OpenAPIObject,
  runners: ReadonlyArray<readonly [string, (new () => object) | undefined]>,
): void {
  const alternatives: SchemaObject[] = runners.map(([kind, options]) => {
    const kindOnly: SchemaObject = {
      type: 'object',
      properties: { kind: { type: 'string', enum: [kind] } },
      required: ['kind'],
    };
    return options ? { allOf: [kindOnly, { $ref: getSchemaPath(options) }] } : kindOnly;
  });
  for (const dto of ['CreateJobDto', 'UpdateJobDto']) {
    const schema = document.components?.schemas?.[dto] as SchemaObject | undefined;
    const runner = schema?.properties?.runner as SchemaObject | undefined;
    if (!schema?.properties || !runner) continue;
    schema.properties.runner = { description: runner.description, oneOf: alternatives };
  }
}
