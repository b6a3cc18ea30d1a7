import { Client } from 'pg';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createHost, createTenant, setQuotas } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';

const CONCURRENT_REQUESTS = 200;
const ADMISSIBLE = 50;

interface Backend {
  name: string;
  start(): Promise<{ control: RunningControl; countActive(): Promise<number>; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'SQLite',
    async start() {
      const control = await startControl();
      const countActive = async () => {
        const db = new Database(join(control.dataDir, 'dcm.sqlite'), { readonly: true });
        try {
          return (db.prepare("SELECT COUNT(*) AS n FROM allocations WHERE status = 'active'").get() as { n: number }).n;
        } finally {
          db.close();
        }
      };
      return { control, countActive, cleanup: () => control.close() };
    },
  },
  {
    name: 'PostgreSQL',
    async start() {
      const database: TestDatabase = await createTestDatabase();
      const control = await startControl({ databaseUrl: database.url });
      const countActive = async () => {
        const client = new Client({ connectionString: database.url });
        await client.connect();
        try {
          return Number((await client.query("SELECT COUNT(*) AS n FROM allocations WHERE status = 'active'")).rows[0].n);
        } finally {
          await client.end();
        }
      };
      return {
        control,
        countActive,
        async cleanup() {
          await control.close();
          await database.drop();
        },
      };
    },
  },
];

/** Fires every request at once and tallies the answers by status and problem code. */
async function burst(control: RunningControl, body: unknown) {
  const responses = await Promise.all(Array.from({ length: CONCURRENT_REQUESTS }, () => control.api.post('/v1/allocations', body)));
  const tally = new Map<string, number>();
  for (const response of responses) {
    const key = response.status === 201 ? '201' : `${response.status} ${response.body?.code}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return Object.fromEntries(tally);
}

describe.each(backends)('admission under a burst of concurrent requests on $name', (backend) => {
  let running: Awaited<ReturnType<Backend['start']>>;

  beforeEach(async () => {
    running = await backend.start();
  });

  afterEach(async () => {
    await running.cleanup();
  });

  it(`admits exactly ${ADMISSIBLE} of ${CONCURRENT_REQUESTS} when host capacity binds`, async () => {
    const { api } = running.control;
    await createTenant(api, 'torfaen');
    await setQuotas(api, 'torfaen', { vcpu: 1000 });
    // capacity = floor((60 − 10) × 1.0) = 50 single-vcpu allocations
    await createHost(api, 'blv-c01', { vcpu: { total: 60, reserved: 10, allocationRatio: 1 } });

    const tally = await burst(running.control, { tenant: 'torfaen', resources: { vcpu: 1 } });

    expect(tally).toEqual({ '201': ADMISSIBLE, '409 InsufficientCapacity': CONCURRENT_REQUESTS - ADMISSIBLE });
    await expect(running.countActive()).resolves.toBe(ADMISSIBLE);
    const host = await api.get('/v1/hosts/blv-c01');
    expect(host.body.inventories.vcpu).toMatchObject({ capacity: 50, allocated: 50, free: 0 });
  });

  it(`admits exactly ${ADMISSIBLE} of ${CONCURRENT_REQUESTS} when the tenant quota binds`, async () => {
    const { api } = running.control;
    await createTenant(api, 'monmouthshire');
    await setQuotas(api, 'monmouthshire', { vcpu: ADMISSIBLE });
    await createHost(api, 'blv-c01', { vcpu: { total: 512, allocationRatio: 1 } });
    await createHost(api, 'blv-c02', { vcpu: { total: 512, allocationRatio: 1 } });

    const tally = await burst(running.control, { tenant: 'monmouthshire', resources: { vcpu: 1 } });

    expect(tally).toEqual({ '201': ADMISSIBLE, '409 QuotaExceeded': CONCURRENT_REQUESTS - ADMISSIBLE });
    await expect(running.countActive()).resolves.toBe(ADMISSIBLE);
    const quotas = await api.get('/v1/tenants/monmouthshire/quotas');
    expect(quotas.body.quotas.vcpu).toMatchObject({ limit: ADMISSIBLE, allocated: ADMISSIBLE, available: 0, state: 'warning' });
  });
});
