import { hostname } from 'node:os';
import { ControlProcess, spawnControl } from './support/control-process';
import { eventually } from './support/eventually';
import { freePort } from './support/ports';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { createDataDir, removeDataDir } from './support/restartable-control';

const ADMIN_TOKEN = 'leader-test-admin-token-0123456789';
const LEADER_INTERVAL_S = 1;

interface Replica extends ControlProcess {
  name: string;
  dataDir: string;
}

async function startReplica(name: string, databaseUrl: string): Promise<Replica> {
  const port = await freePort();
  const dataDir = createDataDir();
  const control = spawnControl({
    port,
    dataDir,
    adminToken: ADMIN_TOKEN,
    env: {
      DCM_DATABASE_URL: databaseUrl,
      DCM_LOG_LEVEL: 'info',
      DCM_LEADER_INTERVAL_S: String(LEADER_INTERVAL_S),
      DCM_ENFORCEMENT_INTERVAL_S: '1',
      DCM_REPORT_INTERVAL_S: '1',
    },
  });
  return { ...control, name, dataDir };
}

/** A replica that exited ends the wait at once (statusOf says so); any other error means it is not up yet. */
const untilExit = (timeoutMs: number) => ({ timeoutMs, fatal: (error: unknown) => error instanceof Error && error.message.startsWith('replica ') });

interface SchedulerStatus {
  replica: string;
  leading: boolean;
  leader: string | null;
  jobs: { name: string; everyReplica: boolean; lastRunAt: string | null }[];
}

const statusOf = async (replica: Replica): Promise<SchedulerStatus> => {
  if (replica.process.exitCode !== null) throw new Error(`replica ${replica.name} exited with ${replica.process.exitCode}:\n${replica.output()}`);
  const response = await replica.api.get<SchedulerStatus>('/v1/scheduler');
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return response.body;
};
/** The leader's jobs this replica ran (jobs for every replica, such as token-revocations, run on followers too). */
const ranJobs = (status: SchedulerStatus) => status.jobs.filter((job) => !job.everyReplica && job.lastRunAt !== null).map((job) => job.name);

describe('several control replicas on one PostgreSQL database', () => {
  let database: TestDatabase;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    for (const replica of replicas) {
      if (replica.process.exitCode === null && replica.process.signalCode === null) {
        await new Promise((resolve) => {
          replica.process.once('exit', resolve);
          replica.process.kill('SIGTERM');
        });
      }
      removeDataDir(replica.dataDir);
    }
    await database?.drop();
  });

  it('runs the scheduler jobs on exactly one replica, and on another within a couple of intervals once it is killed', async () => {
    replicas.push(await startReplica('one', database.url), await startReplica('two', database.url));
    const [first, second] = await Promise.all(replicas.map((replica) => eventually(`${replica.name} to serve`, () => statusOf(replica), untilExit(60_000))));

    // Both answer the API; exactly one leads, and both name the same leader.
    expect([first.leading, second.leading].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = first.leading ? [replicas[0], replicas[1]] : [replicas[1], replicas[0]];
    const leaderName = (first.leading ? first : second).replica;
    expect(leaderName).toBe(`${hostname()}/${leader.process.pid}`);
    await expect(statusOf(follower)).resolves.toMatchObject({ leading: false, leader: leaderName });
    await eventually(
      'the leader to run its jobs',
      async () => ((await statusOf(leader)).jobs.some((job) => job.name === 'enforcement' && job.lastRunAt) ? true : undefined),
      untilExit(10_000),
    );
    expect(ranJobs(await statusOf(follower))).toEqual([]);
    expect(leader.output()).toContain('this replica now runs the scheduler jobs');

    const killedAt = Date.now();
    leader.process.kill('SIGKILL');
    const takeover = await eventually(
      'the follower to take over',
      async () => ((await statusOf(follower)).leading ? Date.now() - killedAt : undefined),
      untilExit(10_000),
    );

    expect(takeover).toBeLessThanOrEqual(2 * LEADER_INTERVAL_S * 1000 + 500);
    await expect(statusOf(follower)).resolves.toMatchObject({ leading: true, leader: (await statusOf(follower)).replica });
    await eventually(
      'the new leader to run the jobs',
      async () => (ranJobs(await statusOf(follower)).includes('enforcement') ? true : undefined),
      untilExit(5_000),
    );
    expect(follower.output()).toContain('this replica now runs the scheduler jobs');
  }, 120_000);
});
