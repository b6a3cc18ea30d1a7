import { MigrationInterface, QueryRunner, Table, TableColumn, TableColumnOptions, TableIndex } from 'typeorm';

const bigint = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const text = (name: string, length: number, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: String(length), isNullable: nullable });

/** The hash-chained audit log, and surge grants with the per-quota sum of the running ones. */
export class AuditAndGrants1732694400000 implements MigrationInterface {
  name = 'AuditAndGrants1732694400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          { ...bigint('seq'), isPrimary: true },
          bigint('at'),
          text('actor', 100),
          text('action', 60),
          text('subject_type', 30),
          text('subject', 200),
          { name: 'before', type: 'text', isNullable: true },
          { name: 'after', type: 'text', isNullable: true },
          text('prev_hash', 64),
          text('hash', 64),
        ],
        indices: [
          new TableIndex({ name: 'audit_events_subject', columnNames: ['subject_type', 'subject', 'seq'] }),
          new TableIndex({ name: 'audit_events_actor', columnNames: ['actor', 'seq'] }),
          new TableIndex({ name: 'audit_events_at', columnNames: ['at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'surge_grants',
        columns: [
          { ...text('id', 36), isPrimary: true },
          text('tenant_id', 36),
          text('reason', 500),
          text('created_by', 100),
          bigint('created_at'),
          bigint('expires_at'),
          bigint('ended_at', true),
          text('end_reason', 8, true),
        ],
        foreignKeys: [{ columnNames: ['tenant_id'], referencedTableName: 'tenants', referencedColumnNames: ['id'] }],
        indices: [
          new TableIndex({ name: 'surge_grants_tenant', columnNames: ['tenant_id', 'ended_at'] }),
          new TableIndex({ name: 'surge_grants_expiry', columnNames: ['ended_at', 'expires_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'surge_grant_items',
        columns: [{ ...text('grant_id', 36), isPrimary: true }, { ...text('resource_class', 48), isPrimary: true }, bigint('amount')],
        foreignKeys: [{ columnNames: ['grant_id'], referencedTableName: 'surge_grants', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
      }),
    );
    await queryRunner.addColumn('quotas', new TableColumn({ name: 'granted', type: 'bigint', default: 0 }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('quotas', 'granted');
    await queryRunner.dropTable('surge_grant_items');
    await queryRunner.dropTable('surge_grants');
    await queryRunner.dropTable('audit_events');
  }
}
