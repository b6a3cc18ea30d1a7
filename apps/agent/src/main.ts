import { Command } from 'commander';
import pino from 'pino';
import { AgentConfigError, loadAgentConfig } from './agent-config';
import { Agent } from './agent';

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
  const agent = new Agent(config, logger);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, spooled: agent.spooled }, 'stopping');
    await agent.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  logger.info({ controlUrl: config.controlUrl, intervalSeconds: config.intervalSeconds }, 'dcm agent starting');
  await agent.start();
}

void main();
