import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * PostgreSQL: room on each page of the rows every agent report rewrites (its agent's, its host's and the host's latest
 * measurement), so that the new version of a row fits on the page of the old one: a HOT update, which writes no index
 * entry and leaves the old version for the page's own pruning rather than for vacuum. At the default fill factor
 * (100) a latest measurement (about 1.4 KB, five to a page) found no room, and every report's upsert moved the row to
 * another page and added an index entry. Pages written before this migration keep their fill until a `VACUUM FULL`
 * (or pg_repack) rewrites the table; it is not run here, since it locks the table for its duration.
 * SQLite has no such setting, and rewrites a row in place.
 */
const FILL_FACTORS = { host_measurements: 50, hosts: 70, agents: 70 } as const;

export class HotUpdates1733385600000 implements MigrationInterface {
  name = 'HotUpdates1733385600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    for (const [table, fillFactor] of Object.entries(FILL_FACTORS)) await queryRunner.query(`ALTER TABLE ${table} SET (fillfactor = ${fillFactor})`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    for (const table of Object.keys(FILL_FACTORS)) await queryRunner.query(`ALTER TABLE ${table} RESET (fillfactor)`);
  }
}
