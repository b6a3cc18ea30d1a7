import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableIndex } from 'typeorm';

const bigint = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const text = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });

/**
 * History and enforcement delivery: one-minute capacity samples per site and class (what the forecast fits), the
 * outbox of enforcement events still to be POSTed to the webhook, and the watermarks that let downsampling resume
 * where it stopped. Also indexes host samples by time, which downsampling and retention scan by.
 */
export class HistoryAndOutbox1732521600000 implements MigrationInterface {
  name = 'HistoryAndOutbox1732521600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'capacity_samples',
        columns: [
          { ...text('site', 63), isPrimary: true },
          { ...text('resource_class', 48), isPrimary: true },
          { ...bigint('bucket'), isPrimary: true },
          bigint('capacity'),
          bigint('allocated'),
          bigint('used', true),
        ],
        indices: [new TableIndex({ name: 'capacity_samples_bucket', columnNames: ['bucket'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'webhook_outbox',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          text('event_id', 36),
          { name: 'payload', type: 'text' },
          text('status', 16),
          { name: 'attempts', type: 'integer', default: 0 },
          bigint('created_at'),
          bigint('next_attempt_at'),
          bigint('finished_at', true),
          text('last_error', 500, true),
        ],
        indices: [new TableIndex({ name: 'webhook_outbox_status', columnNames: ['status', 'id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'scheduler_watermarks',
        columns: [{ ...text('name', 64), isPrimary: true }, bigint('value')],
      }),
    );
    await queryRunner.createIndex('host_samples', new TableIndex({ name: 'host_samples_bucket', columnNames: ['bucket'] }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('host_samples', 'host_samples_bucket');
    for (const table of ['scheduler_watermarks', 'webhook_outbox', 'capacity_samples']) await queryRunner.dropTable(table);
  }
}
