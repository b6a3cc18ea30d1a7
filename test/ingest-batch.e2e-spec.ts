import { rawQuery } from '@dcm/persistence';
import type { Report } from '@dcm/protocol';
import { DataSource } from 'typeorm';
import { AgentsService } from '../apps/control/src/agents/agents.service';
import { RunningControl, startControl } from './support/control';
import { createTenant, enrolAgent, expectStatus } from './support/facility';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { expectProblem } from './support/problems';
import { aReport } from './support/reports';

const GIB = 2 ** 30;

interface Enrolled {
  agentId: string;
  agentToken: string;
  hostName: string;
}

/**
 * Posts of different agents that arrive together are stored in one transaction: on PostgreSQL gathered by
 * AgentsService.storeBatch, with one statement for all their writes; on SQLite by the unit of work's group commit, a
 * savepoint a post. Either way what is stored must be what each post alone would have stored, and a post that fails
 * must fail alone.
 */
describe.each(['sqlite', 'postgres'])('report posts stored together on %s', (backend) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;
  let dataSource: DataSource;

  const post = (agent: Enrolled, reports: Report[], token = agent.agentToken) => control.api.post(`/v1/agents/${agent.agentId}/reports`, reports, { token });
  const rows = <T>(sql: string, parameters: unknown[] = []) => rawQuery<T>(dataSource.manager, sql, parameters);
  const hostId = async (name: string) => (await rows<{ id: string }>('SELECT id FROM hosts WHERE name = ? AND decommissioned_at IS NULL', [name]))[0].id;
  /** Three reports of one minute, each with its own CPU figure and tenant use: the last of them is the minute's sample. */
  const minute = (from: number): Report[] =>
    [from, from + 1, from + 2].map((seq) =>
      aReport(seq, {
        cpu: { ...aReport(seq).cpu, usageRatio: (seq % 100) / 100 },
        tenants: { bound: { memoryBytes: seq * GIB }, stranger: { memoryBytes: GIB } },
      }),
    );

  beforeAll(async () => {
    database = backend === 'postgres' ? await createTestDatabase() : undefined;
    control = await startControl(database ? { databaseUrl: database.url } : {});
    dataSource = control.app.get(DataSource);
    await createTenant(control.api, 'bound');
    await createTenant(control.api, 'stranger');
  });

  afterAll(async () => {
    await control?.close();
    await database?.drop();
  });

  it('stores many agents’ concurrent posts as each alone would have, and refuses the bad ones alone', async () => {
    const agents: Enrolled[] = [];
    for (let index = 0; index < 24; index++) {
      const agent = (await enrolAgent(control.api, `blv-b${String(index).padStart(2, '0')}`)) as Enrolled;
      await expectStatus(control.api.put(`/v1/hosts/${agent.hostName}/tenants/bound`), 200);
      agents.push(agent);
    }
    const [twice, impostor, gone, ...others] = agents;
    await expectStatus(control.api.delete(`/v1/hosts/${gone.hostName}`), 200);

    const answers = await Promise.all([
      ...others.map((agent) => post(agent, minute(1))),
      post(twice, minute(1)),
      post(twice, [aReport(3), aReport(4)]),
      post(impostor, minute(1), others[0].agentToken),
      post(gone, minute(1)),
    ]);

    for (const answer of answers.slice(0, others.length)) expect(answer).toMatchObject({ status: 200, body: { accepted: 3, duplicates: 0, lastSeq: 3 } });
    // The same agent's two posts are stored one after the other, in either order, as if posted so.
    const pair = answers.slice(others.length, others.length + 2).map(({ body }) => ({ accepted: body.accepted, duplicates: body.duplicates }));
    expect([
      [
        { accepted: 3, duplicates: 0 },
        { accepted: 1, duplicates: 1 },
      ],
      [
        { accepted: 0, duplicates: 3 },
        { accepted: 2, duplicates: 0 },
      ],
    ]).toContainEqual(pair);
    expectProblem(answers[others.length + 2], 404, 'NotFound');
    expectProblem(answers[others.length + 3], 409, 'Conflict');

    // The truth is in the database: one sample a minute, the minute's last report's; only the bound tenant's use.
    for (const agent of others) {
      const id = await hostId(agent.hostName);
      await expect(rows('SELECT cpu_usage_ratio, memory_total FROM host_samples WHERE host_id = ?', [id])).resolves.toEqual([
        { cpu_usage_ratio: 0.03, memory_total: expect.anything() },
      ]);
      const tenantRows = await rows<{ slug: string; memory_bytes: unknown }>(
        'SELECT t.slug, s.memory_bytes FROM tenant_samples s JOIN tenants t ON t.id = s.tenant_id WHERE s.host_id = ?',
        [id],
      );
      expect(tenantRows.map((row) => [row.slug, Number(row.memory_bytes)])).toEqual([['bound', 3 * GIB]]);
      const [agentRow] = await rows<{ last_seq: unknown }>('SELECT last_seq FROM agents WHERE id = ?', [agent.agentId]);
      expect(Number(agentRow.last_seq)).toBe(3);
      const host = await expectStatus(control.api.get(`/v1/hosts/${agent.hostName}`), 200);
      expect(host.measurements).toMatchObject({ seq: 3, tenants: { bound: { memoryBytes: 3 * GIB } } });
    }
    const [twiceRow] = await rows<{ last_seq: unknown }>('SELECT last_seq FROM agents WHERE id = ?', [twice.agentId]);
    expect(Number(twiceRow.last_seq)).toBe(4);
    await expect(expectStatus(control.api.get(`/v1/hosts/${twice.hostName}`), 200)).resolves.toMatchObject({ measurements: { seq: 4 } });
    // The refused posts wrote nothing.
    const [impostorRow] = await rows<{ last_seq: unknown }>('SELECT last_seq FROM agents WHERE id = ?', [impostor.agentId]);
    expect(Number(impostorRow.last_seq)).toBe(0);
    await expect(rows('SELECT host_id FROM host_samples WHERE host_id = ?', [await hostId(impostor.hostName)])).resolves.toEqual([]);
  });

  it('stores again alone each post of a batch whose transaction failed, so that only the post at fault fails', async () => {
    const agents: Enrolled[] = [];
    for (let index = 0; index < 6; index++) agents.push((await enrolAgent(control.api, `blv-f${index}`)) as Enrolled);
    const faulty = agents[2];
    const faultyHost = await hostId(faulty.hostName);
    // A real failure inside the database, for one host's sample only: the batch's one write fails as a whole.
    if (backend === 'postgres') {
      await rows(`CREATE FUNCTION refuse_sample() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.host_id = '${faultyHost}' THEN RAISE EXCEPTION 'the disk is on fire'; END IF; RETURN NEW; END $$`);
      await rows('CREATE TRIGGER refuse_sample BEFORE INSERT ON host_samples FOR EACH ROW EXECUTE FUNCTION refuse_sample()');
    } else {
      await rows(`CREATE TRIGGER refuse_sample BEFORE INSERT ON host_samples WHEN NEW.host_id = '${faultyHost}'
        BEGIN SELECT RAISE(ABORT, 'the disk is on fire'); END`);
    }
    // Called in one turn of the event loop, the posts share one batch.
    const service = control.app.get(AgentsService);
    const tokens = await rows<{ agent_id: string; token_id: string }>('SELECT id AS agent_id, token_id FROM agents');
    const tokenOf = new Map(tokens.map((row) => [row.agent_id, row.token_id]));
    const outcomes = await Promise.allSettled(
      agents.map((agent) => service.ingest(agent.agentId, { kind: 'agent', tokenId: tokenOf.get(agent.agentId)!, role: null, tenantId: null }, [aReport(1)])),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(agents.map((agent) => (agent === faulty ? 'rejected' : 'fulfilled')));
    const lastSeqs = await rows<{ id: string; last_seq: unknown }>('SELECT id, last_seq FROM agents');
    const seqOf = new Map(lastSeqs.map((row) => [row.id, Number(row.last_seq)]));
    expect(agents.map((agent) => seqOf.get(agent.agentId))).toEqual(agents.map((agent) => (agent === faulty ? 0 : 1)));

    await rows('DROP TRIGGER refuse_sample' + (backend === 'postgres' ? ' ON host_samples' : ''));
    await expect(post(faulty, [aReport(1)]).then((answer) => answer.body)).resolves.toMatchObject({ accepted: 1, lastSeq: 1 });
  });
});
