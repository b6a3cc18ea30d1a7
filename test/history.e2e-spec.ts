import { rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { DownsamplingService } from '../apps/control/src/history/downsampling.service';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant } from './support/facility';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { setControlClock } from './support/clock';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe.each(['sqlite', 'postgres'])('history on %s: downsampling and retention of samples', (backend) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;
  let dataSource: DataSource;
  const now = Date.UTC(2026, 10, 23, 12, 30);
  /** Rows as plain numbers whatever the driver (PostgreSQL answers int8 as strings). */
  const select = async (sql: string, parameters: unknown[] = []) =>
    (await rawQuery<Record<string, unknown>>(dataSource.manager, sql, parameters)).map((row) =>
      Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value === null ? null : Number(value)])),
    );
  const buckets = async (table: string) => (await select(`SELECT bucket FROM ${table} ORDER BY bucket`)).map((row) => Number(row.bucket));

  beforeAll(async () => {
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    control = await startControl({ sampleRawDays: 7, sampleRetentionDays: 400, ...(database ? { databaseUrl: database.url } : {}) });
    setControlClock(control.app, now);
    dataSource = control.app.get(DataSource);
    await createHost(control.api, 'blv-h01', { vcpu: { total: 8 } });
    await createTenant(control.api, 'powys');
    const [host] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM hosts WHERE name = 'blv-h01'");
    const [tenant] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM tenants WHERE slug = 'powys'");
    const seed = async (from: number, count: number) => {
      for (let index = 0; index < count; index++) {
        const bucket = from + index * MINUTE;
        await rawQuery(
          dataSource.manager,
          'INSERT INTO host_samples (host_id, bucket, cpu_usage_ratio, load1, memory_total, memory_available, storage_size, storage_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          [host.id, bucket, index / 100, index, 1000 + index, 500 + index, 2000, 100 + index],
        );
        await rawQuery(
          dataSource.manager,
          'INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total) VALUES (?, ?, ?, ?, ?, ?)',
          [tenant.id, host.id, bucket, 10 + index, null, 1000 + index],
        );
        await rawQuery(dataSource.manager, 'INSERT INTO capacity_samples (site, resource_class, bucket, capacity, allocated, used) VALUES (?, ?, ?, ?, ?, ?)', [
          'hall-a',
          'vcpu',
          bucket,
          32 + (index % 2),
          10 + index,
          null,
        ]);
      }
    };
    await seed(Date.UTC(2026, 10, 10, 9), 120); // two whole hours, 13 days ago
    await seed(Date.UTC(2026, 10, 16, 12), 60); // 7 days and 30 minutes ago: hour 12:00–13:00 is not all past 7 days yet
    await seed(Date.UTC(2025, 9, 1, 0), 60); // 418 days ago: past retention
    await seed(now - DAY, 30); // yesterday
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
    await database?.drop();
  });

  it('folds minutes older than 7 days into hourly rows and deletes samples older than the retention', async () => {
    const outcome = await control.app.get(DownsamplingService).run();

    expect(outcome.hours.host_samples).toBeGreaterThanOrEqual(2);
    const hourly = [Date.UTC(2026, 10, 10, 9), Date.UTC(2026, 10, 10, 10)];
    const untouched = [...Array.from({ length: 60 }, (_, index) => Date.UTC(2026, 10, 16, 12) + index * MINUTE)];
    const yesterday = Array.from({ length: 30 }, (_, index) => now - DAY + index * MINUTE);
    for (const table of ['host_samples', 'tenant_samples', 'capacity_samples']) {
      expect({ table, buckets: await buckets(table) }).toEqual({ table, buckets: [...hourly, ...untouched, ...yesterday] });
    }
  });

  it('keeps averages for levels of use and maxima for sizes and counters', async () => {
    // Minutes 0..59 of the first hour carry index 0..59, of the second 60..119.
    const [host] = await select('SELECT * FROM host_samples WHERE bucket = ?', [Date.UTC(2026, 10, 10, 10)]);
    expect(host).toMatchObject({
      cpu_usage_ratio: expect.closeTo(0.895, 9),
      load1: 89.5,
      memory_total: 1119,
      memory_available: 590, // 589.5 rounded
      storage_size: 2000,
      storage_used: 190,
    });
    await expect(
      select('SELECT storage_used, memory_bytes, cpu_seconds_total FROM tenant_samples WHERE bucket = ?', [Date.UTC(2026, 10, 10, 9)]),
    ).resolves.toEqual([
      {
        storage_used: 40, // 39.5 rounded
        memory_bytes: null,
        cpu_seconds_total: 1059,
      },
    ]);
    await expect(select('SELECT capacity, allocated, used FROM capacity_samples WHERE bucket = ?', [Date.UTC(2026, 10, 10, 9)])).resolves.toEqual([
      { capacity: 33, allocated: 40, used: null },
    ]);
  });

  it('changes nothing when run again, and folds the next hour once it is 7 days old', async () => {
    const before = await select('SELECT * FROM host_samples ORDER BY bucket');
    await control.app.get(DownsamplingService).run();
    await expect(select('SELECT * FROM host_samples ORDER BY bucket')).resolves.toEqual(before);

    setControlClock(control.app, now + HOUR);
    await control.app.get(DownsamplingService).run();
    expect((await buckets('tenant_samples')).filter((bucket) => bucket < now - 2 * DAY)).toEqual([
      Date.UTC(2026, 10, 10, 9),
      Date.UTC(2026, 10, 10, 10),
      Date.UTC(2026, 10, 16, 12),
    ]);
  });
});
