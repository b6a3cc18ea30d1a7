import { createServer } from 'node:net';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../../libs/persistence/src/dialect';

/** The server the PostgreSQL suites use (see test/support/postgres.ts). */
const POSTGRES_URL = process.env.DCM_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe(`${isDatabaseUnavailable.name} on PostgreSQL`, () => {
  it('is true for a refused connection, as the pg driver reports it', async () => {
    const sut = new Client({ host: '127.0.0.1', port: await closedPort(), user: 'postgres' });
    const error = await sut.connect().then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('is true for a session the server ended (57P01), wrapped by TypeORM, and false for a bad statement', async () => {
    const dataSource = await new DataSource({ type: 'postgres', url: POSTGRES_URL, extra: { max: 1 } }).initialize();
    try {
      const badStatement = await dataSource.query('SELECT * FROM no_such_table').catch((caught: unknown) => caught);
      expect(isDatabaseUnavailable(badStatement)).toBe(false);
      const terminated = await dataSource.query('SELECT pg_terminate_backend(pg_backend_pid())').catch((caught: unknown) => caught);
      expect(isDatabaseUnavailable(terminated)).toBe(true);
    } finally {
      await dataSource.destroy();
    }
  });
});
