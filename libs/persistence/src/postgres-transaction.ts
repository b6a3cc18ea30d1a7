import { Query } from 'pg';
import { QueryFailedError } from 'typeorm';

/** A statement as node-postgres sends it: named (prepared once per connection) or not. */
export interface PostgresStatement {
  name?: string;
  text: string;
  values: unknown[];
}

/** What one statement answers (node-postgres's result, the part rawQuery reads). */
export interface PostgresAnswer {
  command: string;
  rows: unknown[];
  rowCount: number | null;
}

/** The subset of node-postgres's client that raw statements use. */
export interface PostgresClient {
  query(config: PostgresStatement): Promise<PostgresAnswer>;
  query(query: Query): Query;
}

/**
 * A transaction whose edges ride on its statements (see openTransaction): whether BEGIN is still to be sent, and the
 * statement kept back to be sent with COMMIT.
 */
interface Edges {
  begin: boolean;
  last: PostgresStatement | null;
}

const transactions = new WeakMap<object, Edges>();

/**
 * Opens a transaction on `client` without a round trip of its own: BEGIN is sent with the transaction's first
 * statement, in the same message group (one Sync, so if BEGIN failed the statement would not run), and a statement the
 * work marks as its last (deferToCommit) goes with COMMIT. On this machine a round trip costs control ~90 µs of system
 * time in writev alone, and an admission was 5 statements plus BEGIN and COMMIT. Until commitTransaction or
 * rollbackTransaction, every statement on `client` must go through sendStatement, or call flushEdges first.
 */
export function openTransaction(client: object): void {
  transactions.set(client, { begin: true, last: null });
}

/** Whether `client` has a transaction opened by openTransaction. */
export function hasOpenTransaction(client: object): boolean {
  return transactions.has(client);
}

/** Sends what the transaction on `client` holds back (BEGIN, a deferred statement), before a statement sent otherwise. */
export async function flushEdges(client: PostgresClient): Promise<void> {
  const edges = transactions.get(client);
  if (!edges) return;
  if (edges.last) {
    const last = edges.last;
    edges.last = null;
    await sendStatement(client, last);
  } else if (edges.begin) {
    edges.begin = false;
    await client.query({ text: 'BEGIN', values: [] });
  }
}

/** Runs a statement on `client`, inside its open transaction if it has one (after what that transaction held back). */
export async function sendStatement(client: PostgresClient, statement: PostgresStatement): Promise<PostgresAnswer> {
  const edges = transactions.get(client);
  if (!edges) return client.query(statement);
  if (edges.last) await flushEdges(client);
  const begin = edges.begin;
  edges.begin = false;
  return begin ? runWithEdges(client, statement, true, false) : client.query(statement);
}

/**
 * Keeps `statement` back to be sent with COMMIT (one round trip for both): the work's last write. A statement sent on
 * the transaction after it sends it first, so order holds. Answers false when `client` has no open transaction.
 */
export async function deferToCommit(client: PostgresClient, statement: PostgresStatement): Promise<boolean> {
  const edges = transactions.get(client);
  if (!edges) return false;
  if (edges.last) await flushEdges(client);
  edges.last = statement;
  return true;
}

/**
 * Commits the transaction on `client` (with its deferred statement, if any, in one round trip) and forgets it. A
 * transaction that sent nothing has nothing to commit. A failure of the deferred statement leaves the transaction
 * to rollbackTransaction.
 */
export async function commitTransaction(client: PostgresClient): Promise<void> {
  const edges = transactions.get(client);
  if (!edges) throw new Error('commitTransaction: no transaction open on this connection');
  if (edges.last) {
    const last = edges.last;
    edges.last = null;
    const begin = edges.begin;
    edges.begin = false;
    // Failures as rawQuery gives them (TypeORM's QueryFailedError), naming the deferred statement.
    await runWithEdges(client, last, begin, true).catch((error: Error) => {
      throw new QueryFailedError(last.text, last.values, error);
    });
  } else if (!edges.begin) {
    await client.query({ text: 'COMMIT', values: [] });
  }
  transactions.delete(client);
}

/** Rolls the transaction on `client` back if anything of it was sent, and forgets it. */
export async function rollbackTransaction(client: PostgresClient): Promise<void> {
  const edges = transactions.get(client);
  transactions.delete(client);
  if (edges && !edges.begin) await client.query({ text: 'ROLLBACK', values: [] });
}

/** Forgets the transaction on `client` (its connection is being released). */
export function forgetTransaction(client: object): void {
  transactions.delete(client);
}

/** node-postgres's wire calls that EdgedQuery makes (its Query sends a statement with them). */
interface Wire {
  parse(message: { text: string; name?: string; types?: unknown[] }): void;
  bind(message: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(message: { portal?: string; rows?: number }): void;
  sync(): void;
}

/** Sends a parameterless statement unnamed, within the message group being written (no Sync). */
function sendUnnamed(wire: Wire, text: string): void {
  wire.parse({ text, name: '', types: [] });
  wire.bind({ portal: '', statement: '', values: [] });
  wire.execute({ portal: '' });
}

/**
 * node-postgres's Query, with BEGIN before the statement and/or COMMIT after it in the same message group: the server
 * runs them in order and answers once (one Sync); after an error it skips the rest of the group, so a statement never
 * runs without its BEGIN, and COMMIT never follows a failed statement. Query already collects the results of several
 * commands (as for a multi-statement text); the statement's own is picked out.
 */
class EdgedQuery extends Query {
  constructor(
    statement: PostgresStatement,
    private readonly begin: boolean,
    private readonly commit: boolean,
    callback: (error: Error | null, results: PostgresAnswer | PostgresAnswer[]) => void,
  ) {
    super({ name: statement.name, text: statement.text, values: statement.values } as never, undefined, callback as never);
  }

  /** Query's own: parse (once per connection), bind, describe, then _getRows. */
  prepare(wire: Wire): void {
    if (this.begin) sendUnnamed(wire, 'BEGIN');
    (Query.prototype as unknown as { prepare(wire: Wire): void }).prepare.call(this, wire);
  }

  /** Query's own: execute, then Sync; COMMIT goes between them. */
  _getRows(wire: Wire, rows?: number): void {
    wire.execute({ portal: '', rows });
    if (this.commit) sendUnnamed(wire, 'COMMIT');
    wire.sync();
  }
}

function runWithEdges(client: PostgresClient, statement: PostgresStatement, begin: boolean, commit: boolean): Promise<PostgresAnswer> {
  return new Promise((resolve, reject) => {
    client.query(
      new EdgedQuery(statement, begin, commit, (error, results) => {
        if (error) reject(error);
        else resolve(Array.isArray(results) ? results[begin ? 1 : 0] : results);
      }),
    );
  });
}
