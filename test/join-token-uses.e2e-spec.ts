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

  it(`enrols one host when ${PARALLEL} agents enrol the same new name at once, each with a token of its own`, async () => {
    const tokens = await Promise.all(Array.from({ length: PARALLEL }, () => expectStatus(control.api.post('/v1/tokens', { kind: 'join', uses: 1 }), 201)));
    const responses = await Promise.all(
      tokens.map((join) =>
        control.api.post('/v1/agents/enrol', { joinToken: join.token, hostname: 'same-name', facts: hostFacts('same-name') }, { token: null }),
      ),
    );

    expect(responses.filter((response) => response.status === 201)).toHaveLength(1);
    for (const refused of responses.filter((response) => response.status !== 201)) expectProblem(refused, 409, 'Conflict');
    const listed = (await expectStatus(control.api.get('/v1/tokens'), 200)) as { id: string; usesLeft: number }[];
    // A refused enrolment spends nothing.
    expect(tokens.filter((join) => listed.find((token) => token.id === join.id)!.usesLeft === 0)).toHaveLength(1);
  });
});
