import { Presets, SingleBar } from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DcmApiClient } from '../api-client';
import { type CliEnvironment, resolveCredentials, trustedCa } from '../cli-config';
import { OUTPUT_FORMATS, type OutputFormat, type Printer } from '../output';

/** The progress of a long run of steps: a bar on a terminal, a line per step otherwise. */
export interface Progress {
  /** Whether a bar is drawn (other output should then wait until stop). */
  readonly drawn: boolean;
  step(index: number, label: string): void;
  stop(): void;
}

/** What every command needs: where to print, a client for the logged-in control, and progress for long runs. */
export interface CommandContext {
  env: CliEnvironment;
  printer: Printer;
  client(): DcmApiClient;
  progress(total: number): Progress;
}

/** `[3/40] create host blv-c03` lines: what scripts and logs want. */
export function lineProgress(printer: Printer, total: number): Progress {
  return { drawn: false, step: (index, label) => printer.err(`[${index + 1}/${total}] ${label}\n`), stop: () => undefined };
}

/** A bar redrawn in place on the terminal's stderr, so that stdout stays clean for the summary. */
function barProgress(total: number): Progress {
  const bar = new SingleBar(
    { format: ' {bar} {value}/{total} {label}', hideCursor: true, clearOnComplete: false, stream: process.stderr },
    Presets.shades_classic,
  );
  bar.start(total, 0, { label: '' });
  return {
    drawn: true,
    step: (index, label) => bar.update(index, { label }),
    stop: () => {
      bar.update(total, { label: 'done' });
      bar.stop();
    },
  };
}

export function commandContext(env: CliEnvironment, printer: Printer, terminal = false): CommandContext {
  return {
    env,
    printer,
    client() {
      const { url, token, caFile } = resolveCredentials(env);
      return new DcmApiClient(url, token, trustedCa(url, caFile));
    },
    progress: (total) => (terminal ? barProgress(total) : lineProgress(printer, total)),
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
