import { rawQuery } from '@dcm/persistence';
import { DataSource } from 'typeorm';
import { RunningControl, startControl } from './support/control';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { expectJson, expectProblem } from './support/problems';
import { setControlClock } from './support/clock';

const MINUTE = 60_000;
const GIB = 2 ** 30;
const MIB = 2 ** 20;
const at = (iso: string) => Date.parse(iso);

describe.each(['sqlite', 'postgres'])('reports on %s', (backend) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;
  let dataSource: DataSource;
  let now = at('2026-10-25T00:00:00Z');
  const ids: Record<string, string> = {};

  const allocate = async (tenant: string, resources: Record<string, number | string>, createdAt: string) => {
    now = at(createdAt);
    const allocation = await expectStatus(control.api.post('/v1/allocations', { tenant, resources, host: 'blv-h01' }), 201);
    return allocation.id as string;
  };
  const release = async (id: string, releasedAt: string) => {
    now = at(releasedAt);
    await expectStatus(control.api.delete(`/v1/allocations/${id}`), 200);
  };
  const sample = (tenant: string, bucket: number, memory: number | null, storage: number | null) =>
    rawQuery(
      dataSource.manager,
      'INSERT INTO tenant_samples (tenant_id, host_id, bucket, storage_used, memory_bytes, cpu_seconds_total) VALUES (?, ?, ?, ?, ?, ?)',
      [ids[tenant], ids.host, bucket, storage, memory, null],
    );
  const minutes = async (tenant: string, from: string, count: number, memory: number | null, storage: number | null) => {
    for (let index = 0; index < count; index++) await sample(tenant, at(from) + index * MINUTE, memory, storage);
  };
  const showback = (query: string) => control.api.get(`/v1/reports/showback?${query}`);

  beforeAll(async () => {
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    control = await startControl(database ? { databaseUrl: database.url } : {});
    setControlClock(control.app, () => now);
    dataSource = control.app.get(DataSource);
    const { api } = control;
    await createHost(api, 'blv-h01', { vcpu: { total: 64 }, memory: { total: '256GiB' }, storage: { total: '10TiB' } });
    for (const tenant of ['blaenau', 'torfaen', 'idle-co', 'busy-co']) {
      await createTenant(api, tenant);
      await setQuotas(api, tenant, { vcpu: 64, memory: '100GiB', storage: '1TiB' });
      const [row] = await rawQuery<{ id: string }>(dataSource.manager, 'SELECT id FROM tenants WHERE slug = ?', [tenant]);
      ids[tenant] = row.id;
    }
    const [host] = await rawQuery<{ id: string }>(dataSource.manager, "SELECT id FROM hosts WHERE name = 'blv-h01'");
    ids.host = host.id;

    // Showback: the period 1–2 November, allocations across both of its ends.
    await allocate('blaenau', { vcpu: 2, memory: '512MiB' }, '2026-10-25T00:00:00Z'); // active throughout
    const early = await allocate('torfaen', { vcpu: 1 }, '2026-10-30T00:00:00Z');
    await release(early, '2026-10-31T00:00:00Z'); // before the period
    const a = await allocate('torfaen', { vcpu: 4, memory: '1GiB' }, '2026-10-31T12:00:00Z');
    await release(a, '2026-11-01T06:00:00Z'); // 6 h inside
    const b = await allocate('torfaen', { vcpu: 2 }, '2026-11-01T10:00:00Z');
    await release(b, '2026-11-01T10:30:00Z'); // 30 min inside
    await allocate('torfaen', { vcpu: 1, storage: '10GiB' }, '2026-11-01T20:00:00Z'); // active: 4 h inside
    await allocate('torfaen', { vcpu: 1 }, '2026-11-02T01:00:00Z'); // after the period

    // torfaen's measured use: hourly rows before 1 November 06:00 (the downsampling watermark), minute rows after.
    await rawQuery(dataSource.manager, 'INSERT INTO scheduler_watermarks (name, value) VALUES (?, ?)', [
      'downsample:tenant_samples',
      at('2026-11-01T06:00:00Z'),
    ]);
    await sample('torfaen', at('2026-10-31T23:00:00Z'), 8 * GIB, 10 * GIB); // the hour before the period
    await sample('torfaen', at('2026-11-01T00:00:00Z'), 2 * GIB, 10 * GIB);
    await sample('torfaen', at('2026-11-01T01:00:00Z'), 2 * GIB, 10 * GIB);
    await minutes('torfaen', '2026-11-01T12:00:00Z', 30, GIB, null);
    await sample('torfaen', at('2026-11-02T00:00:00Z'), 8 * GIB, null); // the first minute after the period

    // Idle: the window is the 7 days before 23 November 12:00.
    ids.idle = await allocate('idle-co', { vcpu: 2, memory: '10GiB', storage: '100GiB' }, '2026-11-10T00:00:00Z');
    await allocate('idle-co', { vcpu: 4 }, '2026-11-10T00:00:00Z'); // nothing measured to judge it by
    ids.busy = await allocate('busy-co', { memory: '10GiB' }, '2026-11-10T00:00:00Z');
    await allocate('idle-co', { memory: '10GiB' }, '2026-11-20T00:00:00Z'); // younger than the window
    await sample('idle-co', at('2026-11-15T00:00:00Z'), 9 * GIB, 5 * GIB); // busy, but before a 7-day window
    await minutes('idle-co', '2026-11-20T00:00:00Z', 10, 512 * MIB, 5 * GIB);
    await minutes('busy-co', '2026-11-20T00:00:00Z', 10, GIB, null);
    await sample('busy-co', at('2026-11-21T00:00:00Z'), 6 * GIB, null);
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await control?.close();
    await database?.drop();
  });

  it('documents both reports in the OpenAPI document', async () => {
    const document = expectJson(await control.api.get('/docs-json', { token: null }), 200);

    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/reports/showback', '/v1/reports/idle']));
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['ShowbackResponseDto', 'ShowbackResourceDto', 'IdleResponseDto', 'IdleClassUseDto']),
    );
  });

  describe('showback', () => {
    beforeAll(() => {
      now = at('2026-11-03T00:00:00Z');
    });

    it('counts unit-hours allocated inside the period and measured use from hourly and minute samples', async () => {
      const body = expectJson(await showback('from=2026-11-01&to=2026-11-02'), 200);

      expect(body).toEqual({
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-02T00:00:00.000Z',
        measuredClasses: ['memory', 'storage'],
        tenants: [
          {
            tenant: 'blaenau',
            resources: {
              memory: { unit: 'bytes', allocatedUnitHours: 12 * GIB, usedUnitHours: null },
              vcpu: { unit: 'count', allocatedUnitHours: 48, usedUnitHours: null },
            },
          },
          {
            tenant: 'torfaen',
            resources: {
              memory: { unit: 'bytes', allocatedUnitHours: 6 * GIB, usedUnitHours: 4.5 * GIB }, // 2 hours × 2 GiB + 30 minutes × 1 GiB
              storage: { unit: 'bytes', allocatedUnitHours: 40 * GIB, usedUnitHours: 20 * GIB },
              vcpu: { unit: 'count', allocatedUnitHours: 24 + 1 + 4, usedUnitHours: null },
            },
          },
        ],
      });
    });

    it('counts only the part of an hourly sample or an allocation inside a period that does not start on the hour', async () => {
      const body = expectJson(await showback(`from=${encodeURIComponent('2026-11-01T00:30:00Z')}&to=${encodeURIComponent('2026-11-01T13:15:00+01:00')}`), 200);

      expect(body.tenants).toEqual([
        {
          tenant: 'blaenau',
          resources: {
            memory: { unit: 'bytes', allocatedUnitHours: 5.875 * GIB, usedUnitHours: null },
            vcpu: { unit: 'count', allocatedUnitHours: 23.5, usedUnitHours: null },
          },
        },
        {
          tenant: 'torfaen',
          resources: {
            memory: { unit: 'bytes', allocatedUnitHours: 5.5 * GIB, usedUnitHours: 3.25 * GIB },
            storage: { unit: 'bytes', allocatedUnitHours: 0, usedUnitHours: 15 * GIB },
            vcpu: { unit: 'count', allocatedUnitHours: 22 + 1, usedUnitHours: null },
          },
        },
      ]);
    });

    it('counts active allocations up to now when the period has not ended', async () => {
      const body = expectJson(await showback('from=2026-11-01&to=2026-11-05'), 200);

      expect(body.tenants.map((tenant: any) => [tenant.tenant, tenant.resources.vcpu.allocatedUnitHours])).toEqual([
        ['blaenau', 2 * 48],
        ['torfaen', 24 + 1 + 28 + 23],
      ]);
    });

    it('answers CSV with format=csv', async () => {
      const response = await showback('from=2026-11-01&to=2026-11-02&format=csv');

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="showback-2026-11-01-2026-11-02.csv"');
      expect(response.body).toBe(
        [
          'tenant,resource,unit,allocated_unit_hours,used_unit_hours',
          `blaenau,memory,bytes,${12 * GIB},`,
          'blaenau,vcpu,count,48,',
          `torfaen,memory,bytes,${6 * GIB},${4.5 * GIB}`,
          `torfaen,storage,bytes,${40 * GIB},${20 * GIB}`,
          'torfaen,vcpu,count,29,',
          '',
        ].join('\r\n'),
      );
    });

    it.each([
      ['to=2026-11-02', /from/],
      ['from=2026-11-01', /to/],
      ['from=2026-11-02&to=2026-11-01', /from must be before to/],
      ['from=2026-11-01&to=2026-11-01', /from must be before to/],
      ['from=2026-02-30&to=2026-03-02', /from is not a valid date/],
      ['from=2026-11-01T00:00:00&to=2026-11-02', /from must be an ISO 8601 date/],
      ['from=2025-01-01&to=2026-11-01', /at most 400 days/],
      ['from=2026-11-01&to=2026-11-02&format=xml', /format/],
    ])('refuses %s', async (query, detail) => {
      const problem = expectProblem(await showback(query), 400, 'ValidationFailed');
      expect(problem.detail).toMatch(detail);
    });

    it('is open to viewers and closed without a token', async () => {
      const viewer = await expectStatus(control.api.post('/v1/tokens', { kind: 'api', role: 'viewer' }), 201);
      expect((await control.api.as(viewer.token).get('/v1/reports/showback?from=2026-11-01&to=2026-11-02')).status).toBe(200);
      expectProblem(await control.api.as(null).get('/v1/reports/showback?from=2026-11-01&to=2026-11-02'), 401, 'Unauthenticated');
    });
  });

  describe('idle', () => {
    beforeAll(() => {
      now = at('2026-11-23T12:00:00Z');
    });

    it('lists an allocation whose tenant stayed under the threshold on its host, not one whose tenant went over', async () => {
      const body = expectJson(await control.api.get('/v1/reports/idle'), 200);

      expect(body).toEqual({
        at: '2026-11-23T12:00:00.000Z',
        windowStart: '2026-11-16T12:00:00.000Z',
        window: '7d',
        threshold: 0.1,
        allocations: [
          {
            id: ids.idle,
            tenant: 'idle-co',
            host: 'blv-h01',
            site: 'hall-a',
            description: '',
            createdAt: '2026-11-10T00:00:00.000Z',
            resources: { vcpu: 2, memory: 10 * GIB, storage: 100 * GIB },
            measured: {
              memory: { allocated: 10 * GIB, peakUsed: 512 * MIB, peakRatio: 0.05 },
              storage: { allocated: 100 * GIB, peakUsed: 5 * GIB, peakRatio: 0.05 },
            },
          },
        ],
      });
    });

    it('follows the threshold and the window', async () => {
      const higher = expectJson(await control.api.get('/v1/reports/idle?threshold=0.7'), 200);
      expect(higher.allocations.map((allocation: { id: string }) => allocation.id)).toEqual([ids.busy, ids.idle]);
      expect(higher.allocations[0].measured).toEqual({ memory: { allocated: 10 * GIB, peakUsed: 6 * GIB, peakRatio: 0.6 } });

      // Ten days reach back to idle-co's busy sample of 15 November.
      const longer = expectJson(await control.api.get('/v1/reports/idle?window=10d'), 200);
      expect(longer).toMatchObject({ windowStart: '2026-11-13T12:00:00.000Z', allocations: [] });
    });

    it.each(['threshold=2', 'threshold=0', 'threshold=abc', 'window=7w', 'window=0d', 'window=401d'])('refuses %s', async (query) => {
      expectProblem(await control.api.get(`/v1/reports/idle?${query}`), 400, 'ValidationFailed');
    });
  });
});
