import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';

/**
 * Columns left out of the comparison, each with the reason. tokens.last_used_at: using a token may stamp when it was
 * last used (at most about once a minute per token), and the refused requests of a test are made with real tokens.
 */
const VOLATILE_COLUMNS: Record<string, string[]> = { tokens: ['last_used_at'] };

/** A fingerprint of every table of a SQLite database: its row count and a hash over its rows, whatever their order. */
export type TableDigests = Record<string, { rows: number; digest: string }>;

/** Reads the database file read-only (safe beside a running control in WAL mode) and fingerprints every table. */
export function tableDigests(file: string): TableDigests {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const digests: TableDigests = {};
    for (const table of tables) {
      const skipped = new Set(VOLATILE_COLUMNS[table] ?? []);
      const rowHashes = (db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[])
        .map((row) => {
          const kept = Object.entries(row)
            .filter(([column]) => !skipped.has(column))
            .map(([column, value]) => [column, Buffer.isBuffer(value) ? `blob:${value.toString('hex')}` : value]);
          return createHash('sha256').update(JSON.stringify(kept)).digest('hex');
        })
        .sort();
      digests[table] = { rows: rowHashes.length, digest: createHash('sha256').update(rowHashes.join('\n')).digest('hex') };
    }
    return digests;
  } finally {
    db.close();
  }
}

/** SQLite's own check of the file's structure: 'ok' when the database is sound. */
export function integrityCheck(file: string): string {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check).join('\n');
  } finally {
    db.close();
  }
}
