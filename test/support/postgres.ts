import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server the PostgreSQL suites use; `.ci/run` makes sure it is up. Override with DCM_TEST_POSTGRES_URL. */
export const POSTGRES_ADMIN_URL = process.env.DCM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The audit key PostgreSQL suites give control (which refuses PostgreSQL without one): the same for every replica. */
export const TEST_AUDIT_KEY = `test-pg:${Buffer.alloc(32, 7).toString('base64')}`;

/** `settings` with the test audit key added when they name a PostgreSQL database and no key. */
export function withTestAuditKey(settings: Record<string, unknown>): Record<string, unknown> {
  const postgres = typeof settings.databaseUrl === 'string' && /^postgres(ql)?:\/\//.test(settings.databaseUrl);
  return postgres && !('auditKey' in settings) ? { ...settings, auditKey: TEST_AUDIT_KEY } : settings;
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates a fresh, uniquely named database for one suite; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `dcm_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${POSTGRES_ADMIN_URL} (start it, or set DCM_TEST_POSTGRES_URL): ${(error as Error).message}`);
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new Client({ connectionString: POSTGRES_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
