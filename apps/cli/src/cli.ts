import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ApiError, ConnectionError } from './api-client';
import { type CliEnvironment, CommandFailed, UsageError } from './cli-config';
import { registerAllocations } from './commands/allocations.command';
import { registerApply } from './commands/apply.command';
import { registerAudit } from './commands/audit.command';
import { registerCapacity } from './commands/capacity.command';
import { registerGrants } from './commands/grants.command';
import { commandContext, withExamples } from './commands/command-context';
import { registerHosts } from './commands/hosts.command';
import { registerLogin } from './commands/login.command';
import { registerQuotas } from './commands/quotas.command';
import { registerReports } from './commands/reports.command';
import { registerTenants } from './commands/tenants.command';
import { registerTokens } from './commands/tokens.command';
import type { Printer } from './output';

/** Exit statuses: 1 when control refused or could not be reached, 2 when the command line itself was wrong. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** `terminal`: stderr is a terminal, so long runs may draw a progress bar there. */
export function buildProgram(env: CliEnvironment, printer: Printer, terminal = false): Command {
  const program = new Command('dcm')
    .description("dcm: the operators' command line for the shared data-centre capacity manager")
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: printer.out, writeErr: printer.err })
    // Throw instead of exiting, so that run() alone decides the exit status; subcommands inherit this.
    .exitOverride();
  withExamples(
    program.addHelpText('after', '\nLog in once (saved to $XDG_CONFIG_HOME/dcm/config.yaml, default ~/.config/dcm/config.yaml), or set DCM_URL and DCM_TOKEN.'),
    'dcm login --url http://127.0.0.1:3000 --token "$(cat data/admin.token)"',
    'dcm tenants list',
    'dcm allocations create --tenant torfaen vcpu=8 memory=32GiB',
  );
  const context = commandContext(env, printer, terminal);
  registerLogin(program, context);
  registerTenants(program, context);
  registerQuotas(program, context);
  registerGrants(program, context);
  registerHosts(program, context);
  registerAllocations(program, context);
  registerCapacity(program, context);
  registerReports(program, context);
  registerTokens(program, context);
  registerAudit(program, context);
  registerApply(program, context);
  return program;
}

/** Runs one command line (without node and the script); answers the exit status. */
export async function run(args: string[], env: CliEnvironment, printer: Printer, terminal = false): Promise<number> {
  try {
    await buildProgram(env, printer, terminal).parseAsync(args, { from: 'user' });
    return 0;
  } catch (error) {
    return report(error, printer);
  }
}

function report(error: unknown, printer: Printer): number {
  // Commander has already printed its own message (or the help the user asked for).
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
  if (error instanceof UsageError) {
    printer.err(`dcm: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ApiError) {
    const { problem } = error;
    printer.err(`dcm: ${problem.detail ?? problem.title ?? `HTTP ${problem.status}`}${problem.code ? ` (${problem.code})` : ''}\n`);
    if (problem.status === 401) printer.err('dcm: the token was not accepted; log in again with "dcm login"\n');
    return EXIT_FAILED;
  }
  if (error instanceof ConnectionError || error instanceof CommandFailed) {
    printer.err(`dcm: ${error.message}\n`);
    return EXIT_FAILED;
  }
  printer.err(`dcm: ${(error as Error).stack ?? String(error)}\n`);
  return EXIT_FAILED;
}

/** The version of the dcm package, found above this file whether it runs from source or from dist. */
function packageVersion(): string {
  for (let directory = __dirname; directory !== dirname(directory); directory = dirname(directory)) {
    const candidate = join(directory, 'package.json');
    if (!existsSync(candidate)) continue;
    const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'dcm') return manifest.version ?? 'unknown';
  }
  return 'unknown';
}
