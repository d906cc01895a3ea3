import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load-config';
import { createApp } from '../create-app';
import { buildOpenApiDocument } from '../http/openapi';
import { openApiFile, serializeOpenApi } from '../http/openapi-file';
import { version } from '../../../../package.json';

/** Writes openapi/openapi.json from the built app (`npm run openapi`); a test fails when it is stale. */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rhythm-openapi-'));
  try {
    const config = loadConfig({ RHYTHM_DATA_DIR: dataDir, RHYTHM_LOG_LEVEL: 'error' }, [], version);
    const app = await createApp(config, false);
    const document = buildOpenApiDocument(app);
    await app.close();
    const target = openApiFile(resolve(__dirname));
    writeFileSync(target, serializeOpenApi(document));
    process.stdout.write(`wrote ${target}\n`);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
