import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { expectJson } from './support/problems';

const GIB = 2 ** 30;
const TIB = 2 ** 40;

describe('GET /v1/capacity', () => {
  let control: RunningControl;

  beforeEach(async () => {
    control = await startControl();
  });

  afterEach(async () => {
    await control?.close();
  });

  const capacity = async () => expectJson(await control.api.get('/v1/capacity'), 200);

  /**
   * hall-a: a-1 (up)          vcpu floor(32 × 4.0) = 128, memory 256 − 16 = 240 GiB
   *         a-2 (maintenance) vcpu 16 × 1.0 = 16,        memory 128 GiB
   * hall-b: b-1 (up)          vcpu floor((64 − 4) × 2.0) = 120, storage 10 TiB
   * Allocated: a-1 8 vcpu + 32 GiB, a-2 4 vcpu + 16 GiB (placed before maintenance), b-1 20 vcpu + 2 TiB.
   */
  async function buildFacility() {
    const { api } = control;
    await createTenant(api, 'torfaen');
    await setQuotas(api, 'torfaen', { vcpu: 1000, memory: '1TiB', storage: '100TiB' });
    await createHost(api, 'a-1', { vcpu: { total: 32 }, memory: { total: '256GiB', reserved: '16GiB' } }, { site: 'hall-a' });
    await createHost(api, 'a-2', { vcpu: { total: 16, allocationRatio: 1 }, memory: { total: '128GiB' } }, { site: 'hall-a' });
    await createHost(api, 'b-1', { vcpu: { total: 64, reserved: 4, allocationRatio: 2 }, storage: { total: '10TiB' } }, { site: 'hall-b' });
    const allocations = {
      a1: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'a-1', resources: { vcpu: 8, memory: '32GiB' } }), 201),
      a2: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'a-2', resources: { vcpu: 4, memory: '16GiB' } }), 201),
      b1: await expectStatus(api.post('/v1/allocations', { tenant: 'torfaen', host: 'b-1', resources: { vcpu: 20, storage: '2TiB' } }), 201),
    };
    await expectStatus(api.patch('/v1/hosts/a-2', { status: 'maintenance' }), 200);
    return allocations;
  }

  it('is empty for a facility without hosts', async () => {
    await expect(capacity()).resolves.toEqual({ facility: { hosts: { up: 0, stale: 0, down: 0, maintenance: 0 }, resources: {} }, sites: [] });
  });

  it('totals capacity, allocated, used, free and placeable per class, for the facility and each site', async () => {
    await buildFacility();

    await expect(capacity()).resolves.toEqual({
      facility: {
        hosts: { up: 2, stale: 0, down: 0, maintenance: 1 },
        resources: {
          vcpu: { unit: 'count', capacity: 264, allocated: 32, used: null, free: 232, placeable: 220 },
          memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, placeable: 208 * GIB },
          storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 2 * TIB, used: null, free: 8 * TIB, placeable: 8 * TIB },
        },
      },
      sites: [
        {
          site: 'hall-a',
          hosts: { up: 1, stale: 0, down: 0, maintenance: 1 },
          resources: {
            vcpu: { unit: 'count', capacity: 144, allocated: 12, used: null, free: 132, placeable: 120 },
            memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, placeable: 208 * GIB },
          },
        },
        {
          site: 'hall-b',
          hosts: { up: 1, stale: 0, down: 0, maintenance: 0 },
          resources: {
            vcpu: { unit: 'count', capacity: 120, allocated: 20, used: null, free: 100, placeable: 100 },
            storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 2 * TIB, used: null, free: 8 * TIB, placeable: 8 * TIB },
          },
        },
      ],
    });
  });

  it('follows releases, maintenance ending, and decommissioning', async () => {
    const allocations = await buildFacility();
    await createHost(control.api, 'c-1', { vcpu: { total: 10, allocationRatio: 1 } }, { site: 'hall-c' });

    await expectStatus(control.api.delete(`/v1/allocations/${allocations.b1.id}`), 200);
    await expectStatus(control.api.patch('/v1/hosts/a-2', { status: 'up' }), 200);
    await expectStatus(control.api.delete('/v1/hosts/c-1'), 200);

    const summary = await capacity();
    expect(summary.facility).toEqual({
      hosts: { up: 3, stale: 0, down: 0, maintenance: 0 },
      resources: {
        vcpu: { unit: 'count', capacity: 264, allocated: 12, used: null, free: 252, placeable: 252 },
        memory: { unit: 'bytes', capacity: 368 * GIB, allocated: 48 * GIB, used: null, free: 320 * GIB, placeable: 320 * GIB },
        storage: { unit: 'bytes', capacity: 10 * TIB, allocated: 0, used: null, free: 10 * TIB, placeable: 10 * TIB },
      },
    });
    expect(summary.sites.map((site: { site: string }) => site.site)).toEqual(['hall-a', 'hall-b']);
    expect(summary.sites[1].resources.vcpu).toEqual({ unit: 'count', capacity: 120, allocated: 0, used: null, free: 120, placeable: 120 });
  });

  it('shows an over-committed host with free 0 and overcommitted, and never negative placeable', async () => {
    await buildFacility();

    // a-1 holds 8 vCPUs; shrink it to floor(1 × 4.0) = 4.
    await expectStatus(control.api.put('/v1/hosts/a-1/inventories/vcpu', { total: 1 }), 200);

    const summary = await capacity();
    const hallA = summary.sites.find((site: { site: string }) => site.site === 'hall-a');
    expect(hallA.resources.vcpu).toEqual({ unit: 'count', capacity: 20, allocated: 12, used: null, free: 8, placeable: 0 });
    expect(summary.facility.resources.vcpu).toEqual({ unit: 'count', capacity: 140, allocated: 32, used: null, free: 108, placeable: 100 });
    await expect(control.api.get('/v1/hosts/a-1')).resolves.toMatchObject({
      body: { overcommitted: true, inventories: { vcpu: { capacity: 4, allocated: 8, free: 0, overcommitted: true } } },
    });
  });
});
