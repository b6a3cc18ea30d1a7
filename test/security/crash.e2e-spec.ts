import { join } from 'node:path';
import { ControlProcess, spawnControl } from '../support/control-process';
import { createHost, createTenant, expectStatus, setQuotas } from '../support/facility';
import { freePort } from '../support/ports';
import { createDataDir, removeDataDir } from '../support/restartable-control';
import { integrityCheck } from '../support/sqlite-rows';
import { eventually, StopWaiting } from '../support/eventually';

const ADMIN_TOKEN = 'crash-test-admin-token-0123456789';
const CLIENTS = 100;
/** Answered allocations to wait for before the kill: enough that many more are in flight at that moment. */
const ANSWERED_BEFORE_KILL = 400;
const TENANTS = ['torfaen', 'blaenau-gwent', 'monmouthshire', 'newport'];
const HOSTS = Array.from({ length: 10 }, (_, i) => `blv-c${String(i + 1).padStart(2, '0')}`);

type Control = ControlProcess;

/** The real control as its own process on SQLite, so that it can be killed. */
function startControl(dataDir: string, port: number): Control {
  return spawnControl({ port, dataDir, adminToken: ADMIN_TOKEN, env: { DCM_LOG_LEVEL: 'warn' } });
}

async function ready(control: Control): Promise<void> {
  await eventually(
    () => `control to be ready:\n${control.output()}`,
    async () => {
      if (control.process.exitCode !== null) throw new StopWaiting(`control exited with ${control.process.exitCode}:\n${control.output()}`);
      return (await control.api.get('/health/ready', { token: null })).status === 200;
    },
    90_000,
  );
}

function stop(control: Control, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (control.process.exitCode !== null || control.process.signalCode !== null) return resolve();
    control.process.once('exit', () => resolve());
    control.process.kill(signal);
  });
}

interface Answered {
  key: string;
  token: string;
  body: { id: string; tenant: string; host: string; resources: Record<string, number> };
}

describe('kill -9 while 100 clients create allocations', () => {
  let dataDir: string;
  let control: Control | undefined;

  beforeAll(() => {
    dataDir = createDataDir();
  });

  afterAll(async () => {
    if (control) await stop(control, 'SIGKILL');
    removeDataDir(dataDir);
  });

  it('keeps every allocation it answered 201, half-writes nothing, and leaves a sound database', async () => {
    const port = await freePort();
    control = startControl(dataDir, port);
    await ready(control);
    const admin = control.api;
    for (const slug of TENANTS) {
      await createTenant(admin, slug);
      await setQuotas(admin, slug, { vcpu: 1_000_000, memory: '1000TiB' });
    }
    for (const name of HOSTS) await createHost(admin, name, { vcpu: { total: 100_000 }, memory: { total: '1000TiB' } });
    // One operator token per client, as separate scripts would have.
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++)
      tokens.push((await expectStatus(admin.post('/v1/tokens', { kind: 'api', role: 'operator', name: `client ${i}` }), 201)).token);

    const answered: Answered[] = [];
    const unanswered: { key: string; token: string; request: object }[] = [];
    const otherAnswers: string[] = [];
    let killed = false;
    const killedNow = () => {
      killed = true;
      control!.process.kill('SIGKILL');
    };
    const client = async (index: number) => {
      const api = control!.api.as(tokens[index]);
      for (let n = 0; !killed; n++) {
        const key = `crash-${index}-${n}`;
        const request = { tenant: TENANTS[(index + n) % TENANTS.length], resources: { vcpu: 1 + (n % 4), memory: `${1 + ((index + n) % 8)}GiB` } };
        try {
          const response = await api.post('/v1/allocations', request, { headers: { 'idempotency-key': key } });
          if (response.status === 201) answered.push({ key, token: tokens[index], body: response.body });
          else otherAnswers.push(`${response.status} ${JSON.stringify(response.body)}`);
        } catch {
          // No answer: the request may or may not have been committed when control died.
          unanswered.push({ key, token: tokens[index], request });
          return;
        }
        if (answered.length >= ANSWERED_BEFORE_KILL && !killed) killedNow();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, index) => client(index)));
    await stop(control, 'SIGKILL');
    expect(control.process.signalCode).toBe('SIGKILL');
    expect(otherAnswers).toEqual([]);
    expect(answered.length).toBeGreaterThanOrEqual(ANSWERED_BEFORE_KILL);
    // Killed mid-flight: the other clients were waiting for answers.
    expect(unanswered.length).toBeGreaterThan(0);

    control = startControl(dataDir, port);
    await ready(control);
    const after = control.api;

    const listAll = async () => {
      const listed: (Answered['body'] & { status: string })[] = [];
      for (let offset = 0; ; offset += 1000) {
        const page = await expectStatus(after.get(`/v1/allocations?status=all&limit=1000&offset=${offset}`), 200);
        listed.push(...page);
        if (page.length < 1000) return listed;
      }
    };

    // Every allocation answered 201 is there, as it was answered.
    const byId = new Map((await listAll()).map((allocation) => [allocation.id, allocation]));
    expect(answered.filter(({ body }) => !byId.has(body.id)).map(({ body }) => body.id)).toEqual([]);
    for (const { body } of answered) expect(byId.get(body.id)).toMatchObject({ ...body, status: 'active' });

    // Requests in flight at the kill either committed whole or not at all: a retry with the same key finds the one
    // allocation that committed (answered as a replay) or makes it now, never a second one.
    for (const { key, token, request } of unanswered) {
      const retry = await after.post('/v1/allocations', request, { token, headers: { 'idempotency-key': key } });
      expect({ key, status: retry.status }).toEqual({ key, status: 201 });
    }
    const active = (await listAll()).filter((allocation) => allocation.status === 'active');
    expect(active.length).toBe(answered.length + unanswered.length);

    // Nothing half-written: each tenant's and host's allocated figures are exactly the sum of its active allocations.
    const sums = new Map<string, { vcpu: number; memory: number }>();
    for (const allocation of active) {
      for (const owner of [`tenant:${allocation.tenant}`, `host:${allocation.host}`]) {
        const sum = sums.get(owner) ?? { vcpu: 0, memory: 0 };
        sum.vcpu += allocation.resources.vcpu;
        sum.memory += allocation.resources.memory;
        sums.set(owner, sum);
      }
    }
    for (const slug of TENANTS) {
      const { quotas } = await expectStatus(after.get(`/v1/tenants/${slug}/quotas`), 200);
      expect({ slug, vcpu: quotas.vcpu.allocated, memory: quotas.memory.allocated }).toEqual({
        slug,
        ...(sums.get(`tenant:${slug}`) ?? { vcpu: 0, memory: 0 }),
      });
    }
    for (const name of HOSTS) {
      const { inventories } = await expectStatus(after.get(`/v1/hosts/${name}`), 200);
      expect({ name, vcpu: inventories.vcpu.allocated, memory: inventories.memory.allocated }).toEqual({
        name,
        ...(sums.get(`host:${name}`) ?? { vcpu: 0, memory: 0 }),
      });
    }

    await stop(control, 'SIGTERM');
    control = undefined;
    expect(integrityCheck(join(dataDir, 'dcm.sqlite'))).toBe('ok');
  }, 240_000);
});
