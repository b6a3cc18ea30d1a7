/**
 * Child process: the real control application, as `npm run start:control` would run it, on 127.0.0.1 and a free port.
 * Settings come as JSON in BENCH_CONTROL_SETTINGS (e.g. {"databaseUrl": "postgres://…"}); the data directory is a fresh
 * temporary one unless given. Reports { url, adminToken, dataDir, databaseUrl } to the parent (see child.ts).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlApp } from '../../../apps/control/src/bootstrap';
import { controlConfig } from '../../../apps/control/src/config/control-config';
import { withTestAuditKey } from '../../support/postgres';
import { serveChild } from './child';

export interface ControlServerDetails {
  url: string;
  adminToken: string;
  dataDir: string;
  databaseUrl: string;
}

serveChild(async () => {
  const settings = JSON.parse(process.env.BENCH_CONTROL_SETTINGS ?? '{}') as Record<string, unknown>;
  const dataDir = (settings.dataDir as string | undefined) ?? mkdtempSync(join(tmpdir(), 'dcm-bench-'));
  const config = controlConfig({ logLevel: 'warn', ...withTestAuditKey(settings), dataDir, host: '127.0.0.1', port: 0 });
  const app = await createControlApp(config);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app.close();
    throw error;
  }
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  // A replica joining a database another one bootstrapped is given that one's admin token.
  const adminToken = typeof settings.adminToken === 'string' ? settings.adminToken : readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const details: ControlServerDetails = { url, adminToken, dataDir, databaseUrl: config.databaseUrl };
  return { details: { ...details }, close: () => app.close() };
});
