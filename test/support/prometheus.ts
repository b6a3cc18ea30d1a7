import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { eventually, StopWaiting } from './eventually';

export const PROMTOOL = '/usr/bin/promtool';
export const PROMETHEUS = '/usr/bin/prometheus';

/** Fails the test with what to do when a Prometheus binary is missing: CI installs it, so it must never be skipped. */
export function requireBinary(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: install Prometheus (apt-get install --no-install-recommends prometheus); CI installs it`);
}

export interface RunningPrometheus {
  url: string;
  /** GET on Prometheus's HTTP API; the decoded JSON answer, errors included. */
  api(path: string): Promise<{ status: string; data?: any; errorType?: string; error?: string }>;
  close(): Promise<void>;
}

/** Starts a real Prometheus on the given configuration file with a throwaway TSDB, and waits until it is ready. */
export async function startPrometheus(configFile: string): Promise<RunningPrometheus> {
  requireBinary(PROMETHEUS);
  const workDir = mkdtempSync(join(tmpdir(), 'dcm-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(workDir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    await eventually(
      () => `prometheus to be ready: ${log}`,
      async () => {
        if (child.exitCode !== null) throw new StopWaiting(`prometheus exited with ${child.exitCode}: ${log}`);
        return (await fetch(`${url}/-/ready`)).ok;
      },
      30_000,
    );
  } catch (error) {
    await close();
    throw error;
  }

  return {
    url,
    api: async (path) => (await fetch(`${url}${path}`)).json() as Promise<{ status: string; data?: any; errorType?: string; error?: string }>,
    close,
  };
}

/** A Prometheus configuration in `workDir` that scrapes control's /metrics every second as job "dcm"; its path. */
export function writeScrapeConfig(workDir: string, controlUrl: string, metricsToken: string): string {
  const config = join(workDir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      '  - job_name: dcm',
      `    authorization: { credentials: ${JSON.stringify(metricsToken)} }`,
      `    static_configs: [{ targets: [${JSON.stringify(new URL(controlUrl).host)}] }]`,
      '',
    ].join('\n'),
  );
  return config;
}
