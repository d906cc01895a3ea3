import type { INestApplication, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { AccessService } from '@rhythm/authz';
import { AppModule, type AppExtensions } from './app.module';
import type { RhythmConfig } from './config/rhythm-config';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { buildOpenApiDocument } from './http/openapi';
import { RouteCatalog } from './http/route-catalog';

/** Builds the API application as `main.ts`, the OpenAPI generator and the tests all use it. */
export async function createApp(
  config: RhythmConfig,
  logger: LoggerService | false,
  extensions: AppExtensions = {},
): Promise<INestApplication> {
  const tls = config.api.certFile
    ? { key: readFileSync(config.api.keyFile), cert: readFileSync(config.api.certFile) }
    : undefined;
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, extensions),
    {
      bodyParser: false,
      logger,
      httpsOptions: tls,
    },
  );
  app.disable('x-powered-by');
  // Hashing every body for an ETag costs throughput, and no Rhythm client sends If-None-Match.
  app.set('etag', false);
  const routes = new RouteCatalog(app.getHttpAdapter().getInstance());
  app.useGlobalFilters(new ApiExceptionFilter(routes, app.get(AccessService).scheme));
  app.enableShutdownHooks();
  try {
    // Before init, so that the docs routes precede the router's not-found handler.
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app));
    await app.init();
  } catch (error) {
    // A failed boot (e.g. two runners of one kind) still releases the store and the runners.
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}
