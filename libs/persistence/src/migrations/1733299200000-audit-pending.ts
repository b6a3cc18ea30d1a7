import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * PostgreSQL only: audit events written in their change's transaction wait here, in the order of `id`, until the
 * chain's one sealer moves them into audit_events with their seq and keyed hash (see audit-log.ts). SQLite has a single
 * writer and appends to the chain in the change's own transaction, so it never has pending events.
 */
export class AuditPending1733299200000 implements MigrationInterface {
  name = 'AuditPending1733299200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.createTable(
      new Table({
        name: 'audit_pending',
        columns: [
          { name: 'id', type: 'bigint', isPrimary: true, isGenerated: true, generationStrategy: 'increment' }, // bigserial
          { name: 'at', type: 'bigint' },
          { name: 'actor', type: 'varchar', length: '100' },
          { name: 'action', type: 'varchar', length: '60' },
          { name: 'subject_type', type: 'varchar', length: '30' },
          { name: 'subject', type: 'varchar', length: '200' },
          { name: 'before', type: 'text', isNullable: true },
          { name: 'after', type: 'text', isNullable: true },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    if (queryRunner.connection.options.type !== 'postgres') return;
    await queryRunner.dropTable('audit_pending');
  }
}
