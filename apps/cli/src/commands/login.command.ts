import { resolve } from 'node:path';
import { Command } from 'commander';
import { ApiError, DcmApiClient, type TrustedCa } from '../api-client';
import { CommandFailed, configPath, removeCredentials, saveCredentials, trustedCa, UsageError } from '../cli-config';
import { type CommandContext, withExamples } from './command-context';

export function registerLogin(program: Command, context: CommandContext): void {
  withExamples(
    program
      .command('login')
      .description('check a token against control and save it for later commands')
      .requiredOption('--url <url>', "control's base URL, e.g. http://127.0.0.1:3000")
      .option('--token <token>', 'an API token (default: $DCM_TOKEN, else one line read from stdin)')
      .option(
        '--ca-file <file>',
        "https only: the CA certificates (PEM) that control's certificate must chain to, instead of the public CAs (default: $DCM_CA_FILE)",
      ),
    'dcm login --url http://127.0.0.1:3000 --token "$(cat data/admin.token)"',
    'cat data/admin.token | dcm login --url https://dcm.blaenavon.example --ca-file /etc/dcm/ca.pem',
  ).action(async (options: { url: string; token?: string; caFile?: string }) => {
    const url = parseUrl(options.url);
    if (options.caFile && !url.startsWith('https:')) throw new UsageError(`--ca-file is for an https:// URL; ${url} is not encrypted`);
    const caFile = options.caFile ?? context.env.DCM_CA_FILE;
    const trusted = trustedCa(url, caFile && resolve(caFile));
    const token = options.token ?? context.env.DCM_TOKEN ?? (await readTokenFromStdin());
    await checkToken(url, token, trusted);
    const path = configPath(context.env);
    saveCredentials(path, { url, token, ...(trusted ? { caFile: trusted.caFile } : {}) });
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
async function checkToken(url: string, token: string, trusted: TrustedCa | undefined): Promise<void> {
  try {
    await new DcmApiClient(url, token, trusted).listTenants();
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
