import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp } from '../create-app';
import { buildOpenApiDocument } from '../http/openapi';
import { openApiFile, serializeOpenApi } from '../http/openapi-file';
import { version } from '../../../../package.json';

/** Writes openapi/openapi.json from the built app (`npm run openapi`); a test fails when it is stale. */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rhythm-openapi-'));
  try {
    const app = await createApp(
      {
        version,
        api: { host: '127.0.0.1', port: 0, certFile: '', keyFile: '', bodyLimitBytes: 1024 * 1024 },
        storage: { kind: 'embedded', dataDir },
        logging: { level: 'error' },
      },
      false,
    );
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
