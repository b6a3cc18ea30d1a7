import { rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { expectJson } from './support/problems';
import { setControlClock } from './support/clock';

const GIB = 2 ** 30;
const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

/** Showback with showbackPrices configured: the figures below are worked out by hand from October 2026 (744 hours). */
describe('showback with unit prices', () => {
  let control: RunningControl;
  let now = at('2026-10-01T00:00:00Z');

  beforeAll(async () => {
    control = await startControl({ showbackPrices: { currency: 'GBP', vcpu: 0.02, memory: 0.005, storage: 0.0001, custom_scratch: 0.001 } });
    setControlClock(control.app, () => now);
    const { api } = control;
    await expectStatus(api.put('/v1/resource-classes/custom_gpu', { unit: 'count' }), 200);
    await expectStatus(api.put('/v1/resource-classes/custom_scratch', { unit: 'bytes' }), 200);
    await createHost(api, 'blv-h01', {
      vcpu: { total: 64 },
      memory: { total: '256GiB' },
      storage: { total: '10TiB' },
      custom_gpu: { total: 4 },
      custom_scratch: { total: '1TiB' },
    });
    for (const tenant of ['blaenau', 'torfaen']) {
      await createTenant(api, tenant);
      await setQuotas(api, tenant, { vcpu: 64, memory: '100GiB', storage: '1TiB', custom_gpu: 2, custom_scratch: '100GiB' });
    }
    const allocate = (tenant: string, resources: Record<string, number | string>) =>
      expectStatus(api.post('/v1/allocations', { tenant, resources, host: 'blv-h01' }), 201);
    // Active for the whole of October.
    await allocate('torfaen', { vcpu: 4, memory: '16GiB', storage: '100GiB', custom_gpu: 1, custom_scratch: '50GiB' });
    now = at('2026-10-31T12:00:00Z');
    await allocate('blaenau', { vcpu: 1 }); // its last 12 hours

    // torfaen measured 8 GiB of memory and 50 GiB of storage for 10 hourly samples.
    const dataSource = control.app.get(DataSource);
    const [tenant] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM tenants WHERE slug = 'torfaen'");
    const [host] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM hosts WHERE name = 'blv-h01'");
    await rawQuery(dataSource.manager, 'INSERT INTO scheduler_watermarks (name, value) VALUES (?, ?)', [
      'downsample:tenant_samples',
      at('2026-11-01T00:00:00Z'),
    ]);
    for (let hour = 0; hour < 10; hour++) {
      await rawQuery(
        dataSource.manager,
        'INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total) VALUES (?, ?, ?, ?, ?, ?)',
        [tenant.id, host.id, at('2026-10-10T00:00:00Z') + hour * HOUR, 50 * GIB, 8 * GIB, null],
      );
    }
    now = at('2026-11-03T00:00:00Z');
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
  });

  it('adds the cost of each class, a total per tenant and the prices used', async () => {
    const body = expectJson(await control.api.get('/v1/reports/showback?from=2026-10-01&to=2026-11-01'), 200);

    expect(body).toEqual({
      from: '2026-10-01T00:00:00.000Z',
      to: '2026-11-01T00:00:00.000Z',
      measuredClasses: ['memory', 'storage'],
      tenants: [
        {
          tenant: 'blaenau',
          resources: { vcpu: { unit: 'count', allocatedUnitHours: 12, usedUnitHours: null, allocatedCost: 0.24, usedCost: null } },
          totals: { allocatedCost: 0.24, usedCost: null },
        },
        {
          tenant: 'torfaen',
          resources: {
            custom_gpu: { unit: 'count', allocatedUnitHours: 744, usedUnitHours: null, allocatedCost: null, usedCost: null }, // no price
            custom_scratch: { unit: 'bytes', allocatedUnitHours: 50 * 744 * GIB, usedUnitHours: null, allocatedCost: 37.2, usedCost: null }, // 37,200 GiB-h × 0.001
            memory: { unit: 'bytes', allocatedUnitHours: 16 * 744 * GIB, usedUnitHours: 80 * GIB, allocatedCost: 59.52, usedCost: 0.4 }, // 11,904 and 80 GiB-h × 0.005
            storage: { unit: 'bytes', allocatedUnitHours: 100 * 744 * GIB, usedUnitHours: 500 * GIB, allocatedCost: 7.44, usedCost: 0.05 }, // 74,400 and 500 GiB-h × 0.0001
            vcpu: { unit: 'count', allocatedUnitHours: 4 * 744, usedUnitHours: null, allocatedCost: 59.52, usedCost: null }, // 2,976 vCPU-h × 0.02
          },
          totals: { allocatedCost: 163.68, usedCost: 0.45 },
        },
      ],
      prices: {
        currency: 'GBP',
        classes: {
          vcpu: { price: 0.02, per: 'unit-hour' },
          memory: { price: 0.005, per: 'GiB-hour' },
          storage: { price: 0.0001, per: 'GiB-hour' },
          custom_scratch: { price: 0.001, per: 'GiB-hour' },
        },
      },
    });
  });

  it('adds currency and cost columns to the CSV, and a total row per tenant', async () => {
    const response = await control.api.get('/v1/reports/showback?from=2026-10-01&to=2026-11-01&format=csv');

    expect(response.status).toBe(200);
    expect(response.body).toBe(
      [
        'tenant,resource,unit,allocated_unit_hours,used_unit_hours,currency,allocated_cost,used_cost',
        'blaenau,vcpu,count,12,,GBP,0.24,',
        'blaenau,total,,,,GBP,0.24,',
        'torfaen,custom_gpu,count,744,,GBP,,',
        `torfaen,custom_scratch,bytes,${50 * 744 * GIB},,GBP,37.2,`,
        `torfaen,memory,bytes,${16 * 744 * GIB},${80 * GIB},GBP,59.52,0.4`,
        `torfaen,storage,bytes,${100 * 744 * GIB},${500 * GIB},GBP,7.44,0.05`,
        'torfaen,vcpu,count,2976,,GBP,59.52,',
        'torfaen,total,,,,GBP,163.68,0.45',
        '',
      ].join('\r\n'),
    );
  });

  it('documents the cost fields in the OpenAPI document', async () => {
    const document = expectJson(await control.api.get('/docs-json', { token: null }), 200);

    expect(Object.keys(document.components.schemas.ShowbackResourceDto.properties)).toEqual(expect.arrayContaining(['allocatedCost', 'usedCost']));
    expect(Object.keys(document.components.schemas)).toEqual(expect.arrayContaining(['ShowbackPricesDto', 'ShowbackPriceDto', 'ShowbackTotalsDto']));
  });
});
