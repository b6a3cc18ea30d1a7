import { Command } from 'commander';
import pino from 'pino';
import { AgentConfigError, loadAgentConfig } from './agent-config';
import { Agent } from './agent';
import { Collector } from './collector';

async function main(): Promise<void> {
  const options = new Command('dcm-agent')
    .description('dcm host agent: measures this host and reports to dcm control')
    .requiredOption('-c, --config <file>', 'the agent YAML configuration (see config/agent.example.yaml)')
    .parse()
    .opts<{ config: string }>();

  let config;
  try {
    config = loadAgentConfig(options.config);
  } catch (error) {
    if (!(error instanceof AgentConfigError)) throw error;
    process.stderr.write(`dcm agent: ${error.message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: config.logLevel, base: { host: config.hostname } });
  const agent = new Agent(config, logger, { collector: new Collector(config, logger) });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, spooled: agent.spooled }, 'stopping');
    await agent.stop();
    logger.info({ spooled: agent.spooled, lastSeq: agent.lastSeq }, 'stopped; unsent reports stay in the spool');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  logger.info(
    { controlUrl: config.controlUrl, caFile: config.tls?.caFile, intervalSeconds: config.intervalSeconds, dataDir: config.dataDir },
    'dcm agent starting',
  );
  await agent.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`dcm agent: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
