import { Logger } from '@nestjs/common';
import { createControlApp } from './bootstrap';
import { ConfigurationError, ControlConfig, loadControlConfig } from './config/control-config';

function readConfig(): ControlConfig {
  try {
    return loadControlConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    process.stderr.write(`dcm control: ${error.message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const app = await createControlApp(config);
  await app.listen({ host: config.host, port: config.port });
  new Logger('Main').log(`dcm control listening on ${config.tls ? 'https' : 'http'}://${config.host}:${config.port} (API docs at /docs)`);
}

void main();
