import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';

/**
 * What an agent may speak for, and how far its clock is from control's:
 * - `host_tenants`: tenants an operator bound to a host (PUT /v1/hosts/:name/tenants/:slug), so that the host's agent
 *   may report their use without an allocation there;
 * - `hosts.clock_skew_ms`: control's receive time minus collectedAt of the host's latest report (refused ones too),
 *   for `dcm_agent_clock_skew_seconds`;
 * - and samples from the future are dropped.
 */
export class AgentTrust1732867200000 implements MigrationInterface {
  name = 'AgentTrust1732867200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'host_tenants',
        columns: [
          { name: 'host_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'created_at', type: 'bigint' },
        ],
        foreignKeys: [
          new TableForeignKey({ columnNames: ['host_id'], referencedTableName: 'hosts', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
          new TableForeignKey({ columnNames: ['tenant_id'], referencedTableName: 'tenants', referencedColumnNames: ['id'], onDelete: 'CASCADE' }),
        ],
        indices: [new TableIndex({ name: 'host_tenants_tenant', columnNames: ['tenant_id'] })],
      }),
    );
    await queryRunner.query('ALTER TABLE hosts ADD COLUMN clock_skew_ms bigint NULL');
    // Samples collected in the future (a year-9999 collectedAt) came from forgeries or clocks that ingest now refuses;
    // as a host's latest sample they would count as a tenant's current use for ever.
    const tomorrow = Date.now() + 86_400_000;
    for (const table of ['host_samples', 'tenant_samples']) await queryRunner.query(`DELETE FROM ${table} WHERE bucket > ${tomorrow}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE hosts DROP COLUMN clock_skew_ms');
    await queryRunner.dropTable('host_tenants');
  }
}
