import { Logger } from '@nestjs/common';
import { createControlApp } from './bootstrap';
import { ConfigurationError, ControlConfig, loadControlConfig } from './config/control-config';
import { certificateWarning } from './config/tls-credentials';

/** A bad setting, whether the configuration or the database finds it out (a revoked DCM_ADMIN_TOKEN), stops the start. */
function stopOnConfigurationError(error: unknown): never {
  if (!(error instanceof ConfigurationError)) throw error;
  process.stderr.write(`dcm control: ${error.message}\n`);
  process.exit(2);
}

function readConfig(): ControlConfig {
  try {
    return loadControlConfig(process.env);
  } catch (error) {
    stopOnConfigurationError(error);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const app = await createControlApp(config).catch(stopOnConfigurationError);
  await app.listen({ host: config.host, port: config.port });
  const logger = new Logger('Main');
  logger.log(`dcm control listening on ${config.tls ? 'https' : 'http'}://${config.host}:${config.port} (API docs at /docs)`);
  const warning = config.tls ? certificateWarning(config.tls.validTo, new Date()) : null;
  if (warning) logger[warning.level](warning.message);
}

void main();
