import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OpenAPIObject } from '@nestjs/swagger';

/** The committed document: `openapi/openapi.json` at the repository root (found from `start` by its nest-cli.json). */
export function openApiFile(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'nest-cli.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no nest-cli.json above ${start}`);
    dir = parent;
  }
  return join(dir, 'openapi', 'openapi.json');
}

export function serializeOpenApi(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
