import { expectStatus, hostFacts } from './support/facility';
import { RunningControl, startControl } from './support/control';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { expectProblem } from './support/problems';

const PARALLEL = 40;

describe.each([
  ['SQLite', false],
  ['PostgreSQL', true],
])('join token uses on %s', (_name, postgres) => {
  let database: TestDatabase | undefined;
  let control: RunningControl;

  beforeAll(async () => {
    database = postgres ? await createTestDatabase() : undefined;
    control = await startControl(database ? { databaseUrl: database.url } : {});
  });

  afterAll(async () => {
    await control?.close();
    await database?.drop();
  });

  /** Enrols PARALLEL distinct hosts at once on one token; answers the statuses and the token's uses left. */
  async function enrolAtOnce(uses: number, prefix: string) {
    const join = await expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses }), 201);
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, (_, index) =>
        control.api.post(
          '/v1/agents/enrol',
          { joinToken: join.token, hostname: `${prefix}-${index}`, facts: hostFacts(`${prefix}-${index}`) },
          { token: null },
        ),
      ),
    );
    const tokens = await expectStatus(control.api.get('/v1/tokens'), 200);
    const usesLeft = (tokens as { id: string; usesLeft: number }[]).find((token) => token.id === join.id)!.usesLeft;
    const hosts = (await expectStatus(control.api.get('/v1/hosts'), 200)) as { name: string }[];
    return { responses, usesLeft, hostsEnrolled: hosts.filter((host) => host.name.startsWith(`${prefix}-`)).length };
  }

  it.each([1, 5])(`lets exactly %i of ${PARALLEL} parallel enrolments through`, async (uses) => {
    const { responses, usesLeft, hostsEnrolled } = await enrolAtOnce(uses, `par${uses}`);

    expect(responses.filter((response) => response.status === 201)).toHaveLength(uses);
    for (const refused of responses.filter((response) => response.status !== 201)) expectProblem(refused, 401, 'Unauthenticated');
    expect(usesLeft).toBe(0);
    expect(hostsEnrolled).toBe(uses);
  });
});
