import { readFileSync } from 'node:fs';
import { formatAmountOf, isValidResourceClassName } from '@dcm/domain';
import { Command } from 'commander';
import type { AuditAnchor, AuditEvent, AuditVerification } from '../api-client';
import { CommandFailed, UsageError } from '../cli-config';
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

interface VerifyOptions extends OutputOptions {
  anchor?: string;
}

const SHOWN_VALUE_LENGTH = 40;

export function registerAudit(program: Command, context: CommandContext): void {
  const audit = withExamples(
    program.command('audit').description('the tamper-evident log of every change: who, when, what, before and after'),
    'dcm audit --subject torfaen --since 7d',
    'dcm audit verify',
    'dcm audit anchor > audit-anchor.json',
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
    withOutput(
      audit
        .command('verify')
        .description(
          "check the log's keyed hash chain from the first event, and that each event's before continues its subject's last after; exits 1 naming the first event that does not",
        ),
    ).option('--anchor <file>', 'also check an anchor taken earlier with "dcm audit anchor": the event at it must still be there, unchanged'),
    'dcm audit verify',
    'dcm audit verify --anchor audit-anchor.json',
    'dcm audit verify -o json',
  ).action(async (options: VerifyOptions) => {
    const anchor = options.anchor === undefined ? undefined : readAnchor(options.anchor);
    const verification = await context.client().verifyAudit(anchor);
    render(context.printer, options.output, verification, verificationFields);
    const failure = verificationFailure(verification);
    if (failure) throw new CommandFailed(failure);
  });

  withExamples(
    audit
      .command('anchor')
      .description('print the head of the chain (seq, hash, at) as JSON, to keep apart from control; "dcm audit verify --anchor FILE" checks it later'),
    'dcm audit anchor > audit-anchor-$(date +%F).json',
  ).action(async () => {
    context.printer.out(`${JSON.stringify(await context.client().auditAnchor(), null, 2)}\n`);
  });
}

/** The anchor file "dcm audit anchor" wrote: JSON with the seq and hash of an event. */
function readAnchor(path: string): Pick<AuditAnchor, 'seq' | 'hash'> {
  let anchor: Partial<AuditAnchor>;
  try {
    anchor = JSON.parse(readFileSync(path, 'utf8')) as Partial<AuditAnchor>;
  } catch (error) {
    throw new UsageError(`--anchor ${path}: cannot read it as JSON (${(error as Error).message})`);
  }
  if (!Number.isSafeInteger(anchor?.seq) || typeof anchor.hash !== 'string' || !/^[0-9a-f]{64}$/.test(anchor.hash)) {
    throw new UsageError(`--anchor ${path}: is not an anchor written by "dcm audit anchor" (it needs a seq and a 64-digit hex hash)`);
  }
  return { seq: anchor.seq!, hash: anchor.hash };
}

/** Why the log cannot be trusted as it stands, or null when it can. */
function verificationFailure(verification: AuditVerification): string | null {
  const { firstBroken, unverifiable, anchor, firstDiscontinuity } = verification;
  const reasons: string[] = [];
  if (firstBroken) reasons.push(`event ${firstBroken.seq} breaks the hash chain (${firstBroken.reason})`);
  else if (!verification.intact && !unverifiable && !anchor) reasons.push('control says the chain is broken');
  if (unverifiable)
    reasons.push(`${unverifiable.events} event(s) from ${unverifiable.firstSeq} on are under keys control does not hold, and could not be checked`);
  if (anchor?.result === 'missing') reasons.push(`the anchored event ${anchor.seq} is gone: the log was cut after it`);
  if (anchor?.result === 'differs') reasons.push(`the anchored event ${anchor.seq} is not the one anchored: it was changed`);
  if (firstDiscontinuity) {
    reasons.push(
      `event ${firstDiscontinuity.seq} does not continue ${firstDiscontinuity.subjectType}/${firstDiscontinuity.subject} ${firstDiscontinuity.aspect}: ${firstDiscontinuity.reason}`,
    );
  }
  return reasons.length === 0 ? null : `the audit log has been tampered with or damaged: ${reasons.join('; ')}`;
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
  const rows: [string, string | number | null][] = [
    ['Intact', verification.intact ? 'yes' : 'NO'],
    ['Continuous', verification.continuous ? 'yes' : 'NO'],
    ['Events checked', verification.checked],
    ['From seq', verification.firstSeq],
    ['To seq', verification.lastSeq],
  ];
  if (verification.unkeyedUntilSeq !== null) rows.push(['Unkeyed until seq', verification.unkeyedUntilSeq]);
  const keys = verification.keys.map((key) => `${key.id} (${key.firstSeq}-${key.lastSeq}${key.available ? '' : ', not held'})`);
  if (keys.length > 0) rows.push(['Keys', keys.join(', ')]);
  if (verification.unverifiable) rows.push(['Not checked', `${verification.unverifiable.events} from seq ${verification.unverifiable.firstSeq}`]);
  if (verification.anchor) rows.push(['Anchor', `${verification.anchor.seq}: ${verification.anchor.result}`]);
  if (verification.firstBroken) rows.push(['First broken', verification.firstBroken.seq], ['Reason', verification.firstBroken.reason]);
  if (verification.firstDiscontinuity) {
    const gap = verification.firstDiscontinuity;
    rows.push(['First discontinuous', gap.seq], ['Subject', `${gap.subjectType}/${gap.subject} ${gap.aspect}`], ['Why', gap.reason]);
  }
  return fields(rows);
}
