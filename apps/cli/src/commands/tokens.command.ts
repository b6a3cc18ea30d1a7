import { Command, Option } from 'commander';
import type { CreatedToken, CreateTokenRequest, Token } from '../api-client';
import { UsageError } from '../cli-config';
import { columns, fields, render, when } from '../output';
import { type CommandContext, type OutputOptions, wholeNumber, withExamples, withOutput } from './command-context';

// commander's option names are the API's field names.
interface CreateOptions extends OutputOptions, CreateTokenRequest {}

export function registerTokens(program: Command, context: CommandContext): void {
  const tokens = withExamples(
    program.command('tokens').description('API tokens for people and scripts, join tokens for agents (admin only)'),
    'dcm tokens list',
    'dcm tokens create --role viewer --name "Grafana read-only"',
  );

  withExamples(withOutput(tokens.command('list').description('list tokens (never their secrets)')), 'dcm tokens list').action(
    async (options: OutputOptions) => {
      render(context.printer, options.output, await context.client().listTokens(), tokenTable);
    },
  );

  withExamples(
    withOutput(tokens.command('create').description('issue a token; its secret is shown once'))
      .addOption(new Option('--kind <kind>', 'api: for people and scripts; join: for enrolling agents').choices(['api', 'join']).default('api'))
      .addOption(new Option('--role <role>', 'for api tokens').choices(['admin', 'operator', 'viewer', 'tenant']))
      .option('--tenant <slug>', 'the tenant a tenant-role token is bound to')
      .option('--uses <n>', 'join tokens: how many enrolments it allows (default 1)', wholeNumber(1))
      .option('--host <name>', 'join tokens: re-enrol this existing host (and only it)')
      .option('--accept', 'join tokens: the host it enrols is placeable at once, without "dcm hosts accept"')
      .option('--expires-at <time>', 'ISO 8601, e.g. 2026-12-31T00:00:00Z (join tokens: at most 30 days ahead, 30 days if not given)')
      .option('--name <name>', 'what it is for'),
    'dcm tokens create --role operator --name "SRS operations"',
    'dcm tokens create --role tenant --tenant torfaen --name "Torfaen self-service"',
    'dcm tokens create --kind join --uses 1 --expires-at "$(date -u -d \'+1 day\' +%FT%TZ)"',
    'dcm tokens create --kind join --host blv-c01 --name "blv-c01 reinstalled"',
  ).action(async (options: CreateOptions) => {
    if (options.kind === 'api' && !options.role) throw new UsageError('an api token needs --role admin, operator, viewer or tenant');
    if (options.role === 'tenant' && !options.tenant) throw new UsageError('a tenant token needs --tenant SLUG');
    if (options.kind !== 'join' && (options.host !== undefined || options.accept))
      throw new UsageError('--host and --accept are for join tokens (--kind join)');
    const { kind, role, tenant, uses, host, accept, expiresAt, name } = options;
    const token = await context.client().createToken({ kind, role, tenant, uses, host, accept, expiresAt, name });
    render(context.printer, options.output, token, createdTokenFields);
    if (options.output === 'table') context.printer.err('Keep the token now: only its hash is stored, so it cannot be shown again.\n');
  });

  withExamples(
    withOutput(tokens.command('revoke').description('revoke a token; it stops working at once').argument('<id>')),
    'dcm tokens revoke 0f8fad5b-d9cb-469f-a165-70867728950e',
  ).action(async (id: string, options: OutputOptions) => {
    render(context.printer, options.output, await context.client().revokeToken(id), (token) => tokenTable([token]));
  });
}

function tokenTable(tokens: Token[]): string {
  return columns(
    ['id', 'kind', 'role', 'tenant', 'uses left', 'host', 'expires', 'last used', 'revoked', 'name'],
    tokens.map((token) => [
      token.id,
      token.kind,
      token.role,
      token.tenant,
      token.usesLeft,
      token.host,
      when(token.expiresAt),
      when(token.lastUsedAt),
      when(token.revokedAt),
      token.name,
    ]),
  );
}

function createdTokenFields(token: CreatedToken): string {
  return fields([
    ['ID', token.id],
    ['Kind', token.kind],
    ['Role', token.role],
    ['Tenant', token.tenant],
    ['Name', token.name],
    ['Uses left', token.usesLeft],
    ['Host', token.host],
    ['Accepted at once', token.kind === 'join' ? (token.accept ? 'yes' : 'no') : null],
    ['Expires', when(token.expiresAt)],
    ['Token', token.token],
  ]);
}
