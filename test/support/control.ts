import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createControlApp } from '../../apps/control/src/bootstrap';
import { controlConfig } from '../../apps/control/src/config/control-config';
import { ApiClient } from './api-client';
import { withTestAuditKey } from './postgres';

export interface RunningControl {
  url: string;
  dataDir: string;
  adminToken: string;
  app: NestFastifyApplication;
  /** A client speaking HTTP to this control as the bootstrap admin (over HTTPS, give it a CA with `through`). */
  api: ApiClient;
  close(): Promise<void>;
}

/**
 * Starts the real control application on a random port, on a fresh temporary SQLite file unless databaseUrl is given
 * (then with the test audit key, unless auditKey is given, even as undefined).
 */
export async function startControl(settings: Record<string, unknown> = {}): Promise<RunningControl> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcm-test-'));
  const config = controlConfig({ dataDir, port: 0, logLevel: 'silent', ...withTestAuditKey(settings) });
  const app = await createControlApp(config);
  let adminToken: string;
  let url: string;
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `${config.tls ? 'https' : 'http'}://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  } catch (error) {
    await app.close();
    throw error;
  }
  return {
    url,
    dataDir,
    adminToken,
    app,
    api: new ApiClient(url, adminToken),
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
