import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from './support/agent-process';
import { ApiClient, ApiResponse } from './support/api-client';
import { requireBuiltCli, runCli } from './support/cli';
import { createHost, createTenant, expectStatus, setQuotas } from './support/facility';
import { RunningHaproxy, startHaproxy } from './support/haproxy';
import { createPgCluster, PgCluster } from './support/pg-cluster';
import { RunningPrometheus, startPrometheus } from './support/prometheus';
import { eventually, pause } from './support/eventually';
import { Replica, startReplica, stopReplicas } from './support/replicas';

const ADMIN_TOKEN = 'production-test-admin-token-0123456789';
const CLIENTS = 100;
const TENANTS = ['torfaen', 'blaenau-gwent', 'monmouthshire', 'newport'];
const HOSTS = Array.from({ length: 8 }, (_, i) => `blv-p${String(i + 1).padStart(2, '0')}`);

interface SchedulerStatus {
  replica: string;
  leading: boolean;
  leader: string | null;
}

/**
 * The production shape: two replicas on PostgreSQL behind Debian's haproxy with the shipped configuration; a real agent,
 * the CLI and a real Prometheus speak to the load balancer only.
 */
describe('two control replicas behind haproxy', () => {
  let cluster: PgCluster;
  let replicas: Replica[] = [];
  let balancer: RunningHaproxy | undefined;
  let prometheus: RunningPrometheus | undefined;
  let agent: ReturnType<typeof startAgent> | undefined;
  const folders: string[] = [];

  beforeAll(async () => {
    requireBuiltCli();
    cluster = await createPgCluster();
  }, 60_000);

  afterAll(async () => {
    await agent?.stop();
    await prometheus?.close();
    await balancer?.close();
    await stopReplicas(replicas);
    await cluster?.destroy();
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  it('serves agent, CLI and Prometheus through the balancer, and loses nothing acknowledged when a replica is killed -9 under load', async () => {
    const url = await cluster.createDatabase('dcm_production');
    const env = { DCM_TRUSTED_PROXIES: '127.0.0.1', DCM_LEADER_INTERVAL_S: '1', DCM_REPORT_INTERVAL_S: '1', DCM_LOG_LEVEL: 'warn' };
    replicas = await Promise.all([startReplica('one', url, ADMIN_TOKEN, env), startReplica('two', url, ADMIN_TOKEN, env)]);
    await Promise.all(replicas.map((replica) => replica.ready()));
    balancer = await startHaproxy([replicas[0].port, replicas[1].port]);
    const admin = new ApiClient(balancer.url, ADMIN_TOKEN);
    await eventually(
      'the balancer to pass requests',
      async () => ((await admin.get('/health/ready', { token: null })).status === 200 ? true : undefined),
      15_000,
    );

    for (const slug of TENANTS) {
      await createTenant(admin, slug);
      await setQuotas(admin, slug, { vcpu: 1_000_000, memory: '1000TiB' });
    }
    for (const name of HOSTS) await createHost(admin, name, { vcpu: { total: 100_000 }, memory: { total: '1000TiB' } });

    // Each replica's placement view of hosts registered through the other is up to 5 s old: wait until both place.
    let warmUps = 0;
    const warmedUp: string[] = [];
    for (const replica of replicas) {
      await eventually(
        `${replica.name} to place on the new hosts`,
        async () => {
          const response = await replica.api.post(
            '/v1/allocations',
            { tenant: TENANTS[0], resources: { vcpu: 1 } },
            { headers: { 'idempotency-key': `warm-up-${warmUps++}` } },
          );
          if (response.status !== 201) throw new Error(`${response.status} ${JSON.stringify(response.body)}`);
          warmedUp.push(response.body.id);
          return true;
        },
        15_000,
      );
    }

    // A real agent, enrolled and reporting through the balancer.
    const agentDir = mkdtempSync(join(tmpdir(), 'dcm-agent-'));
    folders.push(agentDir);
    const joinToken = await expectStatus(admin.post('/v1/tokens', { kind: 'join', uses: 1, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }), 201);
    agent = startAgent(agentDir, { controlUrl: balancer.url, joinToken: joinToken.token, hostname: 'lb-agent', intervalSeconds: 1, storageMounts: [] });
    await eventually(
      'the agent to report through the balancer',
      async () => ((await admin.get('/v1/hosts/lb-agent')).body?.lastReportAt ? true : undefined),
      30_000,
    );

    // A real Prometheus scraping /metrics through the balancer.
    const promDir = mkdtempSync(join(tmpdir(), 'dcm-prom-config-'));
    folders.push(promDir);
    const target = new URL(balancer.url).host;
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\nscrape_configs:\n  - job_name: dcm\n    static_configs: [{ targets: ['${target}'] }]\n`,
    );
    prometheus = await startPrometheus(join(promDir, 'prometheus.yml'));
    const scraped = await eventually(
      'Prometheus to scrape the agent’s host through the balancer',
      async () => {
        const answer = await prometheus!.api(`/api/v1/query?query=${encodeURIComponent('dcm_host_up{host="lb-agent"}')}`);
        return answer.data?.result?.length > 0 ? answer.data.result[0] : undefined;
      },
      30_000,
    );
    expect(scraped.metric).toMatchObject({ job: 'dcm', instance: target, host: 'lb-agent' });

    // The CLI, through the balancer.
    const cliEnv = { DCM_URL: balancer.url, DCM_TOKEN: ADMIN_TOKEN, HOME: agentDir };
    const listed = await runCli(['tenants', 'list', '--output', 'json'], cliEnv);
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(
      JSON.parse(listed.stdout)
        .map((tenant: { slug: string }) => tenant.slug)
        .sort(),
    ).toEqual([...TENANTS].sort());

    // Which replica leads the scheduler: that is the one to kill.
    const leaderName = await eventually(
      'a leader',
      async () => (await expectStatus(admin.get<SchedulerStatus>('/v1/scheduler'), 200)).leader ?? undefined,
      15_000,
    );
    const victim = replicas.find((replica) => leaderName === `${leaderName.split('/')[0]}/${replica.process.pid}`)!;
    const survivor = replicas.find((replica) => replica !== victim)!;
    expect(victim).toBeDefined();

    // 100 clients admit through the balancer; the leader is killed -9 mid-way.
    const tokens: string[] = [];
    for (let i = 0; i < CLIENTS; i++)
      tokens.push((await expectStatus(admin.post('/v1/tokens', { kind: 'api', role: 'operator', name: `client ${i}` }), 201)).token);
    const answered = new Map<string, string>(warmedUp.map((id, index) => [`warm-up ${index}`, id]));
    const failed: { key: string; token: string; request: object; answer: string }[] = [];
    const otherAnswers: string[] = [];
    let killed = false;
    let stop = false;
    const client = async (index: number) => {
      const api = admin.as(tokens[index]);
      for (let n = 0; !stop; n++) {
        const key = `lb-${index}-${n}`;
        const request = { tenant: TENANTS[(index + n) % TENANTS.length], resources: { vcpu: 1, memory: '1GiB' } };
        let response: ApiResponse | undefined;
        let error: unknown;
        try {
          response = await api.post('/v1/allocations', request, { headers: { 'idempotency-key': key } });
        } catch (caught) {
          error = caught;
        }
        if (response?.status === 201) answered.set(key, response.body.id);
        else if (killed && (error || (response && response.status >= 500)))
          failed.push({ key, token: tokens[index], request, answer: error ? String(error) : `${response!.status}` });
        else otherAnswers.push(error ? String(error) : `${response!.status} ${JSON.stringify(response!.body)}`);
        await pause(20);
      }
    };
    const load = Promise.all(tokens.map((_, index) => client(index)));
    try {
      await eventually(
        () => `the load to get going (${answered.size} admitted; last other answers: ${otherAnswers.slice(-3).join('; ')})`,
        async () => (answered.size >= 300 ? true : undefined),
        60_000,
      );
      killed = true;
      await victim.stop('SIGKILL');
      const answeredAtKill = answered.size;
      await eventually('admissions to go on through the survivor', async () => (answered.size >= answeredAtKill + 300 ? true : undefined), 60_000);
    } finally {
      stop = true;
      await load;
    }
    expect(otherAnswers).toEqual([]);
    // At most the requests in flight at the kill failed: each client has one at a time.
    expect(failed.length).toBeLessThanOrEqual(CLIENTS);

    // The survivor takes the scheduler's leadership.
    await eventually(
      'the survivor to lead',
      async () => ((await expectStatus(survivor.api.get<SchedulerStatus>('/v1/scheduler'), 200)).leading ? true : undefined),
      15_000,
    );

    // A retry of a failed request with its Idempotency-Key gets one answer, the same every time: the allocation made
    // before the kill if it committed, else a new one.
    for (const { key, token, request } of failed) {
      const first = await expectStatus(admin.as(token).post('/v1/allocations', request, { headers: { 'idempotency-key': key } }), 201);
      const again = await expectStatus(admin.as(token).post('/v1/allocations', request, { headers: { 'idempotency-key': key } }), 201);
      expect(again.id).toBe(first.id);
      answered.set(key, first.id);
    }

    // Nothing acknowledged is lost, nothing is doubled.
    const ids = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await expectStatus(admin.get(`/v1/allocations?limit=1000&offset=${offset}`), 200);
      for (const allocation of page) ids.add(allocation.id);
      if (page.length < 1000) break;
    }
    expect([...answered.values()].filter((id) => !ids.has(id))).toEqual([]);
    expect(ids.size).toBe(answered.size);

    // The agent, the CLI and Prometheus carry on through the balancer with one replica.
    const reportedBefore = (await expectStatus(admin.get('/v1/hosts/lb-agent'), 200)).lastReportAt as string;
    await eventually(
      'the agent to report after the kill',
      async () => ((await admin.get('/v1/hosts/lb-agent')).body.lastReportAt > reportedBefore ? true : undefined),
      30_000,
    );
    const verified = await runCli(['audit', 'verify', '--output', 'json'], cliEnv);
    expect({ code: verified.code, stderr: verified.stderr }).toEqual({ code: 0, stderr: '' });
    const up = await prometheus.api(`/api/v1/query?query=${encodeURIComponent('up{job="dcm"}')}`);
    expect(up.data.result[0].value[1]).toBe('1');
  }, 300_000);
});
