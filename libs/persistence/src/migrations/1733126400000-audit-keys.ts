import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * The id of the key whose HMAC each audit event carries. Events written before are left as they were (NULL: a plain
 * SHA-256 chain); control seals them at its next start with a keyed checkpoint event, as the key is not in the database.
 */
export class AuditKeys1733126400000 implements MigrationInterface {
  name = 'AuditKeys1733126400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('audit_events', new TableColumn({ name: 'key_id', type: 'varchar', length: '32', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('audit_events', 'key_id');
  }
}
