import Database from 'better-sqlite3';
import { Client } from 'pg';
import { capacityOf } from '../../../libs/domain/src';

/**
 * Reads the database directly (not through the API under test) and checks that nothing was over-committed:
 * - for every tenant and class, the amounts of its active allocation items sum to at most the quota limit and to
 *   exactly quotas.allocated (a class without a quota row must have no active items: deny by default);
 * - for every host and class, they sum to at most capacityOf(inventory) and to exactly inventories.allocated (a class
 *   without an inventory row must have no active items).
 */

export interface DatabaseReader {
  query<T>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

export function sqliteReader(path: string): DatabaseReader {
  const db = new Database(path, { readonly: true });
  return {
    query: async <T>(sql: string) => db.prepare(sql).all() as T[],
    close: async () => {
      db.close();
    },
  };
}

export async function postgresReader(url: string): Promise<DatabaseReader> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return {
    query: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    close: () => client.end(),
  };
}

export interface OverCommitReport {
  passed: boolean;
  quotaRows: number;
  inventoryRows: number;
  activeAllocations: number;
  activeItems: number;
  /** The first few violations, described; empty when passed. */
  violations: string[];
  violationCount: number;
}

type Amount = number | string; // PostgreSQL returns bigint and SUM() as strings

const MAX_LISTED = 20;

export async function checkOverCommit(reader: DatabaseReader): Promise<OverCommitReport> {
  const quotas = await reader.query<{ tenant_id: string; resource_class: string; limit_amount: Amount; allocated: Amount }>(
    'SELECT tenant_id, resource_class, limit_amount, allocated FROM quotas',
  );
  const inventories = await reader.query<{
    host_id: string;
    resource_class: string;
    total: Amount;
    reserved: Amount;
    allocation_ratio: Amount;
    allocated: Amount;
  }>('SELECT host_id, resource_class, total, reserved, allocation_ratio, allocated FROM inventories');
  const byTenant = await reader.query<{ tenant_id: string; resource_class: string; summed: Amount }>(
    `SELECT a.tenant_id, i.resource_class, SUM(i.amount) AS summed
       FROM allocation_items i JOIN allocations a ON a.id = i.allocation_id
      WHERE a.status = 'active'
      GROUP BY a.tenant_id, i.resource_class`,
  );
  const byHost = await reader.query<{ host_id: string; resource_class: string; summed: Amount }>(
    `SELECT a.host_id, i.resource_class, SUM(i.amount) AS summed
       FROM allocation_items i JOIN allocations a ON a.id = i.allocation_id
      WHERE a.status = 'active'
      GROUP BY a.host_id, i.resource_class`,
  );
  const [{ allocations, items }] = await reader.query<{ allocations: Amount; items: Amount }>(
    `SELECT (SELECT COUNT(*) FROM allocations WHERE status = 'active') AS allocations,
            (SELECT COUNT(*) FROM allocation_items i JOIN allocations a ON a.id = i.allocation_id WHERE a.status = 'active') AS items`,
  );

  const violations: string[] = [];
  const key = (owner: string, resourceClass: string) => `${owner}\u0000${resourceClass}`;

  const tenantSums = new Map(byTenant.map((row) => [key(row.tenant_id, row.resource_class), Number(row.summed)]));
  for (const quota of quotas) {
    const k = key(quota.tenant_id, quota.resource_class);
    const summed = tenantSums.get(k) ?? 0;
    tenantSums.delete(k);
    const limit = Number(quota.limit_amount);
    const allocated = Number(quota.allocated);
    if (summed > limit) violations.push(`tenant ${quota.tenant_id} ${quota.resource_class}: active items sum to ${summed}, over the quota limit ${limit}`);
    if (summed !== allocated)
      violations.push(`tenant ${quota.tenant_id} ${quota.resource_class}: active items sum to ${summed}, but quotas.allocated is ${allocated}`);
  }
  for (const [k, summed] of tenantSums) {
    const [tenant, resourceClass] = k.split('\u0000');
    violations.push(`tenant ${tenant} ${resourceClass}: ${summed} allocated without any quota`);
  }

  const hostSums = new Map(byHost.map((row) => [key(row.host_id, row.resource_class), Number(row.summed)]));
  for (const inventory of inventories) {
    const k = key(inventory.host_id, inventory.resource_class);
    const summed = hostSums.get(k) ?? 0;
    hostSums.delete(k);
    const capacity = capacityOf({ total: Number(inventory.total), reserved: Number(inventory.reserved), allocationRatio: Number(inventory.allocation_ratio) });
    const allocated = Number(inventory.allocated);
    if (summed > capacity) violations.push(`host ${inventory.host_id} ${inventory.resource_class}: active items sum to ${summed}, over capacity ${capacity}`);
    if (summed !== allocated) {
      violations.push(`host ${inventory.host_id} ${inventory.resource_class}: active items sum to ${summed}, but inventories.allocated is ${allocated}`);
    }
  }
  for (const [k, summed] of hostSums) {
    const [host, resourceClass] = k.split('\u0000');
    violations.push(`host ${host} ${resourceClass}: ${summed} allocated without any inventory`);
  }

  return {
    passed: violations.length === 0,
    quotaRows: quotas.length,
    inventoryRows: inventories.length,
    activeAllocations: Number(allocations),
    activeItems: Number(items),
    violations: violations.slice(0, MAX_LISTED),
    violationCount: violations.length,
  };
}
