import { EntityManager, MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Appends a keyed checkpoint sealing an unkeyed audit chain, in the caller's transaction (control holds the key). */
export type AuditChainSealer = (manager: EntityManager) => Promise<unknown>;

/**
 * The id of the key whose HMAC each audit event carries. Events written before are left as they were (NULL: a plain
 * SHA-256 chain) and sealed in this migration's transaction with a keyed checkpoint by the sealer control gives
 * (`DatabaseSettings.sealAuditChain`), as the key is not in the database. This is the only time an unkeyed chain is
 * sealed: an unkeyed chain found at any later start was written without the key, and verification says so.
 */
export class AuditKeys1733126400000 implements MigrationInterface {
  name = 'AuditKeys1733126400000';
  protected readonly seal: AuditChainSealer | null = null;

  /** This migration, sealing the chain it finds with `seal`. */
  static sealingWith(seal: AuditChainSealer): typeof AuditKeys1733126400000 {
    return class extends AuditKeys1733126400000 {
      protected override readonly seal = seal;
    };
  }

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('audit_events', new TableColumn({ name: 'key_id', type: 'varchar', length: '32', isNullable: true }));
    await this.seal?.(queryRunner.manager);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('audit_events', 'key_id');
  }
}
