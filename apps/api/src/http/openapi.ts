import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

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
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}
