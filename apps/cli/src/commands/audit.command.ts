import { formatAmountOf, isValidResourceClassName } from '@dcm/domain';
import { Command } from 'commander';
import type { AuditEvent, AuditVerification } from '../api-client';
import { CommandFailed } from '../cli-config';
import { columns, fields, render, when } from '../output';
import { type CommandContext, type OutputOptions, wholeNumber, withExamples, withOutput } from './command-context';
import { instantOrAgo } from './time-args';

interface ListOptions extends OutputOptions {
  subject?: string;
  subjectType?: string;
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  limit?: number;
  before?: number;
}

const SHOWN_VALUE_LENGTH = 40;

export function registerAudit(program: Command, context: CommandContext): void {
  const audit = withExamples(
    program.command('audit').description('the tamper-evident log of every change: who, when, what, before and after'),
    'dcm audit --subject torfaen --since 7d',
    'dcm audit verify',
  );

  const ago = instantOrAgo(() => new Date());
  withExamples(
    withOutput(audit.command('list', { isDefault: true }).description('audit events, newest first ("dcm audit" alone lists them too)'))
      .option('--subject <subject>', 'only events about this subject, e.g. a tenant slug or host name')
      .option('--subject-type <type>', 'only events about this kind of subject: tenant, quota, grant, host, inventory, allocation, token, agent…')
      .option('--actor <actor>', 'only events by this actor: token:<id>, or system:<job> for the scheduler')
      .option('--action <action>', 'only this action, e.g. allocation.create or quota.set')
      .option('--since <time>', 'from this time: a date-time with a zone, a date, or a duration back from now (24h, 7d)', ago)
      .option('--until <time>', 'up to this time (same forms as --since)', ago)
      .option('--limit <n>', 'at most this many (control default 100)', wholeNumber(1))
      .option('--before <seq>', 'only events before this sequence number: the next page after the last one shown', wholeNumber(1)),
    'dcm audit',
    'dcm audit --subject-type tenant --subject torfaen --since 30d',
    'dcm audit --action quota.set --since 2026-11-01 --until 2026-11-08 -o json',
    'dcm audit --limit 100 --before 4711',
  ).action(async (options: ListOptions) => {
    const { subject, subjectType, actor, action, since: from, until: to, limit, before } = options;
    render(context.printer, options.output, await context.client().listAudit({ subject, subjectType, actor, action, from, to, limit, before }), auditTable);
  });

  withExamples(
    withOutput(audit.command('verify').description("check the log's hash chain from the first event; exits 1 naming the first broken event")),
    'dcm audit verify',
    'dcm audit verify -o json',
  ).action(async (options: OutputOptions) => {
    const verification = await context.client().verifyAudit();
    render(context.printer, options.output, verification, verificationFields);
    if (!verification.intact) {
      const broken = verification.firstBroken;
      throw new CommandFailed(
        broken
          ? `the audit log has been tampered with or damaged: event ${broken.seq} breaks the hash chain (${broken.reason})`
          : 'the audit log has been tampered with or damaged: control says the chain is broken',
      );
    }
  });
}

function auditTable(events: AuditEvent[]): string {
  if (events.length === 0) return 'No audit events match.\n';
  return columns(
    ['seq', 'at', 'actor', 'action', 'subject', 'changes'],
    events.map((event) => [event.seq, when(event.at), event.actor, event.action, `${event.subjectType}/${event.subject}`, changes(event)]),
  );
}

/** What changed, in one line: `state: active → frozen; memory: 256 GiB → 512 GiB`; created and deleted subjects say so. */
export function changes(event: Pick<AuditEvent, 'before' | 'after'>): string {
  const { before, after } = event;
  if (!before && !after) return '';
  if (!before) return 'created';
  if (!after) return 'deleted';
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
  return keys.map((key) => `${key}: ${shown(key, before[key])} → ${shown(key, after[key])}`).join('; ');
}

function shown(key: string, value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value === 'number' && isValidResourceClassName(key)) return formatAmountOf(key, value);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > SHOWN_VALUE_LENGTH ? `${text.slice(0, SHOWN_VALUE_LENGTH - 1)}…` : text;
}

function verificationFields(verification: AuditVerification): string {
  return fields([
    ['Intact', verification.intact ? 'yes' : 'NO'],
    ['Events checked', verification.checked],
    ['From seq', verification.firstSeq],
    ['To seq', verification.lastSeq],
    ...(verification.firstBroken
      ? ([
          ['First broken', verification.firstBroken.seq],
          ['Reason', verification.firstBroken.reason],
        ] as [string, string | number][])
      : []),
  ]);
}
