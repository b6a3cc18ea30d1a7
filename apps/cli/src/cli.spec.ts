import type { Command } from 'commander';
import { buildProgram } from './cli';

/** Every command and subcommand, by its full name. */
function commands(command: Command, path: string[] = []): { name: string; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const name = [...path, sub.name()];
    return [{ name: name.join(' '), command: sub }, ...commands(sub, name)];
  });
}

describe(buildProgram.name, () => {
  const printed: string[] = [];
  const sut = buildProgram({}, { out: (text) => printed.push(text), err: (text) => printed.push(text) });

  it.each(commands(sut).map(({ name, command }) => [name, command] as const))('gives `dcm %s --help` a description and an example', (_name, command) => {
    printed.length = 0;
    command.outputHelp();
    const help = printed.join('');
    expect(command.description()).not.toBe('');
    expect(help).toMatch(/Examples:\n {2}\$ dcm \S/);
  });

  it('has the commands the operators run', () => {
    expect(commands(sut).map(({ name }) => name)).toEqual(
      expect.arrayContaining([
        'login',
        'tenants',
        'quotas',
        'grants',
        'hosts',
        'allocations',
        'capacity',
        'forecast',
        'tokens',
        'audit',
        'showback',
        'idle',
        'apply',
      ]),
    );
  });
});
