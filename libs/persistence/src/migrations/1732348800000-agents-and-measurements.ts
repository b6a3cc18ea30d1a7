import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableForeignKey, TableIndex } from 'typeorm';

const id = (name: string): TableColumnOptions => ({ name, type: 'varchar', length: '36' });
const bigint = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const double = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'double precision', isNullable: nullable });
const onHost = () => new TableForeignKey({ columnNames: ['host_id'], referencedTableName: 'hosts', referencedColumnNames: ['id'], onDelete: 'CASCADE' });

/** Enrolled agents, each host's latest measurement, and one-minute samples of hosts and tenants. */
export class AgentsAndMeasurements1732348800000 implements MigrationInterface {
  name = 'AgentsAndMeasurements1732348800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'agents',
        columns: [
          { ...id('id'), isPrimary: true },
          id('host_id'),
          id('token_id'),
          { name: 'facts', type: 'text' },
          { ...bigint('last_seq'), default: 0 },
          bigint('enrolled_at'),
          bigint('last_report_at', true),
          bigint('revoked_at', true),
        ],
        foreignKeys: [onHost(), new TableForeignKey({ columnNames: ['token_id'], referencedTableName: 'tokens', referencedColumnNames: ['id'] })],
        indices: [new TableIndex({ name: 'agents_host', columnNames: ['host_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'host_measurements',
        columns: [{ ...id('host_id'), isPrimary: true }, bigint('seq'), bigint('collected_at'), bigint('received_at'), { name: 'report', type: 'text' }],
        foreignKeys: [onHost()],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'host_samples',
        columns: [
          { ...id('host_id'), isPrimary: true },
          { ...bigint('bucket'), isPrimary: true },
          double('cpu_usage_ratio'),
          double('load1'),
          bigint('memory_total'),
          bigint('memory_available'),
          bigint('storage_size'),
          bigint('storage_used'),
        ],
        foreignKeys: [onHost()],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'tenant_samples',
        columns: [
          { ...id('tenant_id'), isPrimary: true },
          { ...id('host_id'), isPrimary: true },
          { ...bigint('bucket'), isPrimary: true },
          bigint('storage_used', true),
          bigint('memory_bytes', true),
          double('cpu_seconds_total', true),
        ],
        foreignKeys: [
          onHost(),
          new TableForeignKey({ columnNames: ['tenant_id'], referencedTableName: 'tenants', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'tenant_samples_bucket', columnNames: ['bucket'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['tenant_samples', 'host_samples', 'host_measurements', 'agents']) await queryRunner.dropTable(table);
  }
}
