import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createControlApp } from '../../apps/control/src/bootstrap';
import { controlConfig } from '../../apps/control/src/config/control-config';
import { ApiClient } from './api-client';
import { withTestAuditKey } from './postgres';

/** A control on a data directory the test owns, so that it can be stopped and started again on the same files. */
export interface ControlProcess {
  dataDir: string;
  url: string;
  app: NestFastifyApplication;
  /** The client for this control, with no token unless one is given. */
  api(token?: string | null): ApiClient;
  /** The bootstrap token as written to <dataDir>/admin.token. */
  tokenFile(): string;
  /** Stops the application and leaves the data directory in place. */
  stop(): Promise<void>;
}

export function createDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'dcm-test-'));
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

/** Starts the real control application on a random port over an existing data directory. */
export async function bootControl(dataDir: string, settings: Record<string, unknown> = {}): Promise<ControlProcess> {
  const app = await createControlApp(controlConfig({ dataDir, port: 0, logLevel: 'silent', ...withTestAuditKey(settings) }));
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app.close();
    throw error;
  }
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  return {
    dataDir,
    url,
    app,
    api: (token = null) => new ApiClient(url, token),
    tokenFile: () => readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(),
    stop: () => app.close(),
  };
}
