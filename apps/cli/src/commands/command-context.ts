import { Command, InvalidArgumentError, Option } from 'commander';
import { DcmApiClient } from '../api-client';
import { type CliEnvironment, resolveCredentials, trustedCa } from '../cli-config';
import { OUTPUT_FORMATS, type OutputFormat, type Printer } from '../output';

/** What every command needs: where to print, and a client for the logged-in control. */
export interface CommandContext {
  env: CliEnvironment;
  printer: Printer;
  client(): DcmApiClient;
}

export function commandContext(env: CliEnvironment, printer: Printer): CommandContext {
  return {
    env,
    printer,
    client() {
      const { url, token, caFile } = resolveCredentials(env);
      return new DcmApiClient(url, token, trustedCa(url, caFile));
    },
  };
}

export interface OutputOptions {
  output: OutputFormat;
}

/** Adds `-o table|json|yaml` to a command that prints something. */
export function withOutput(command: Command): Command {
  return command.addOption(new Option('-o, --output <format>', 'table for people, json or yaml for scripts').choices(OUTPUT_FORMATS).default('table'));
}

/** The "Examples:" block under a command's --help. */
export function withExamples(command: Command, ...examples: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((example) => `  $ ${example}`).join('\n')}\n`);
}

/** An option parser for whole numbers from `min`; a bad value is a usage error. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}`);
    return Number(value);
  };
}
