import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * Enforcement state per tenant and resource class (`ok` | `warning` | `over`) and when it began, written by the
 * enforcement job and read by the quotas API and `/metrics`; and who froze a tenant (`enforcement` or `operator`), so
 * that the job only lifts freezes it imposed.
 */
export class QuotaStates1732435200000 implements MigrationInterface {
  name = 'QuotaStates1732435200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('quotas', [
      new TableColumn({ name: 'state', type: 'varchar', length: '8', default: "'ok'" }),
      new TableColumn({ name: 'state_since', type: 'bigint', isNullable: true }),
    ]);
    await queryRunner.addColumn('tenants', new TableColumn({ name: 'frozen_by', type: 'varchar', length: '16', isNullable: true }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('tenants', 'frozen_by');
    await queryRunner.dropColumns('quotas', ['state', 'state_since']);
  }
}
