import { Command } from 'commander';
import { ApiError, DcmApiClient } from '../api-client';
import { CommandFailed, configPath, removeCredentials, saveCredentials, UsageError } from '../cli-config';
import { type CommandContext, withExamples } from './command-context';

export function registerLogin(program: Command, context: CommandContext): void {
  withExamples(
    program
      .command('login')
      .description('check a token against control and save it for later commands')
      .requiredOption('--url <url>', "control's base URL, e.g. http://127.0.0.1:3000")
      .option('--token <token>', 'an API token (default: $DCM_TOKEN, else one line read from stdin)'),
    'dcm login --url http://127.0.0.1:3000 --token "$(cat data/admin.token)"',
    'cat data/admin.token | dcm login --url https://dcm.blaenavon.example',
  ).action(async (options: { url: string; token?: string }) => {
    const url = parseUrl(options.url);
    const token = options.token ?? context.env.DCM_TOKEN ?? (await readTokenFromStdin());
    await checkToken(url, token);
    const path = configPath(context.env);
    saveCredentials(path, { url, token });
    context.printer.out(`Logged in to ${url}; saved to ${path}\n`);
  });

  withExamples(program.command('logout').description('forget the saved login'), 'dcm logout').action(() => {
    const path = configPath(context.env);
    context.printer.out(removeCredentials(path) ? `Logged out; removed ${path}\n` : `Not logged in (no ${path})\n`);
  });
}

function parseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url "${text}" is not a URL; e.g. http://127.0.0.1:3000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--url must be http:// or https://, not ${url.protocol}`);
  return url.href.replace(/\/+$/, '');
}

/** Any authenticated answer will do: a tenant token may not list tenants (403) but is still a valid token. */
async function checkToken(url: string, token: string): Promise<void> {
  try {
    await new DcmApiClient(url, token).listTenants();
  } catch (error) {
    if (error instanceof ApiError && error.problem.status === 403) return;
    if (error instanceof ApiError && error.problem.status === 401) {
      throw new CommandFailed(`${url} refused the token (${error.problem.detail ?? 'Unauthenticated'}); nothing was saved`);
    }
    throw error;
  }
}

async function readTokenFromStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new UsageError('give --token, set DCM_TOKEN or pipe the token on stdin');
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  const token = text.trim();
  if (!token) throw new UsageError('no token on stdin');
  return token;
}
