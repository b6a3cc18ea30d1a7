import { rawQuery } from '../dialect';
import { MigrationInterface, QueryRunner, Table, TableColumnOptions, TableForeignKey, TableIndex } from 'typeorm';

const id = (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '36' });
const instant = (name: string, nullable = false): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const amount = (name: string, options: Partial<TableColumnOptions> = {}): TableColumnOptions => ({ name, type: 'bigint', ...options });
const text = (name: string, length: number, options: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  ...options,
});
const foreignKey = (column: string, table: string, onDelete: 'CASCADE' | 'RESTRICT' = 'RESTRICT', referencedColumn = 'id') =>
  new TableForeignKey({ columnNames: [column], referencedTableName: table, referencedColumnNames: [referencedColumn], onDelete });

/** Written with TypeORM's Table API so that one migration serves SQLite and PostgreSQL alike. */
export class InitialSchema1732262400000 implements MigrationInterface {
  name = 'InitialSchema1732262400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'resource_classes',
        columns: [{ ...text('name', 48), isPrimary: true }, text('unit', 8), text('description', 200, { isNullable: true }), instant('created_at')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'tenants',
        columns: [
          { ...id(), isPrimary: true },
          { ...text('slug', 63), isUnique: true },
          text('name', 200),
          text('contact', 320, { default: "''" }),
          text('isolation', 16),
          text('classification', 24),
          text('state', 16),
          instant('created_at'),
          instant('updated_at'),
          instant('offboarded_at', true),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'quotas',
        columns: [
          { ...id('tenant_id'), isPrimary: true },
          { ...text('resource_class', 48), isPrimary: true },
          amount('limit_amount'),
          amount('allocated', { default: 0 }),
          instant('updated_at'),
        ],
        foreignKeys: [foreignKey('tenant_id', 'tenants', 'CASCADE'), foreignKey('resource_class', 'resource_classes', 'RESTRICT', 'name')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'hosts',
        columns: [
          { ...id(), isPrimary: true },
          text('name', 63),
          text('site', 63),
          text('rack', 63, { isNullable: true }),
          { name: 'labels', type: 'text' },
          text('accreditation', 24),
          { ...id('dedicated_tenant_id'), isNullable: true },
          text('status', 16),
          { ...id('agent_id'), isNullable: true },
          instant('last_report_at', true),
          instant('created_at'),
          instant('updated_at'),
          instant('decommissioned_at', true),
        ],
        foreignKeys: [foreignKey('dedicated_tenant_id', 'tenants')],
        indices: [new TableIndex({ name: 'hosts_name_live', columnNames: ['name'], isUnique: true, where: 'decommissioned_at IS NULL' })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'inventories',
        columns: [
          { ...id('host_id'), isPrimary: true },
          { ...text('resource_class', 48), isPrimary: true },
          amount('total'),
          amount('reserved', { default: 0 }),
          { name: 'allocation_ratio', type: 'double precision' },
          amount('min_unit', { isNullable: true }),
          amount('max_unit', { isNullable: true }),
          amount('step_size', { isNullable: true }),
          amount('allocated', { default: 0 }),
          instant('updated_at'),
        ],
        foreignKeys: [foreignKey('host_id', 'hosts', 'CASCADE'), foreignKey('resource_class', 'resource_classes', 'RESTRICT', 'name')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'allocations',
        columns: [
          { ...id(), isPrimary: true },
          id('tenant_id'),
          id('host_id'),
          text('description', 500, { default: "''" }),
          text('status', 16),
          { ...id('created_by'), isNullable: true },
          instant('created_at'),
          instant('released_at', true),
        ],
        foreignKeys: [foreignKey('tenant_id', 'tenants'), foreignKey('host_id', 'hosts')],
        indices: [
          new TableIndex({ name: 'allocations_tenant_status', columnNames: ['tenant_id', 'status'] }),
          new TableIndex({ name: 'allocations_host_status', columnNames: ['host_id', 'status'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'allocation_items',
        columns: [{ ...id('allocation_id'), isPrimary: true }, { ...text('resource_class', 48), isPrimary: true }, amount('amount')],
        foreignKeys: [foreignKey('allocation_id', 'allocations', 'CASCADE'), foreignKey('resource_class', 'resource_classes', 'RESTRICT', 'name')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'tokens',
        columns: [
          { ...id(), isPrimary: true },
          text('kind', 8),
          text('role', 16, { isNullable: true }),
          { ...id('tenant_id'), isNullable: true },
          text('name', 200, { default: "''" }),
          { ...text('secret_hash', 64), isUnique: true },
          { name: 'uses_left', type: 'integer', isNullable: true },
          instant('expires_at', true),
          instant('revoked_at', true),
          instant('last_used_at', true),
          instant('created_at'),
        ],
        foreignKeys: [foreignKey('tenant_id', 'tenants', 'CASCADE')],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'idempotency_records',
        columns: [
          { ...id('principal'), isPrimary: true },
          { ...text('idempotency_key', 255), isPrimary: true },
          text('request_hash', 64),
          { name: 'status_code', type: 'integer' },
          { name: 'body', type: 'text' },
          instant('created_at'),
        ],
      }),
    );
    const now = Date.now();
    for (const [name, unit, description] of [
      ['vcpu', 'count', 'virtual CPUs'],
      ['memory', 'bytes', 'memory'],
      ['storage', 'bytes', 'storage'],
    ]) {
      await rawQuery(queryRunner, 'INSERT INTO resource_classes (name, unit, description, created_at) VALUES (?, ?, ?, ?)', [name, unit, description, now]);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['idempotency_records', 'tokens', 'allocation_items', 'allocations', 'inventories', 'hosts', 'quotas', 'tenants', 'resource_classes']) {
      await queryRunner.dropTable(table);
    }
  }
}
