import { Logger } from '@nestjs/common';
import { createApp } from './create-app';
import { ConfigError, loadConfig } from './config/load-config';
import { JsonLogger } from './logging/json-logger';
import { version } from '../../../package.json';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env, process.argv.slice(2), version);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  const logger = new JsonLogger(config.logging.level);
  const app = await createApp(config, logger);
  await app.listen(config.api.port, config.api.host);
  const scheme = config.api.certFile ? 'https' : 'http';
  new Logger('Rhythm').log({
    msg: 'listening',
    url: `${scheme}://${config.api.host}:${config.api.port}`,
    docs: '/docs',
    storage: config.storage.kind,
    version,
  });
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Rhythm failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
