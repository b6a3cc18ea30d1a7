/**
 * Writes control's OpenAPI document (as /docs-json serves it) to the file named by its argument: the source of the
 * CLI's generated response types (`npm run api-types`). Boots the application on a throwaway SQLite file, serves
 * nothing, and removes the file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createControlApp } from '../apps/control/src/bootstrap';
import { controlConfig } from '../apps/control/src/config/control-config';
import { openApiDocument } from '../apps/control/src/openapi';

export async function controlOpenApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dcm-openapi-'));
  try {
    const app = await createControlApp(controlConfig({ dataDir, port: 0, logLevel: 'silent' }));
    try {
      return openApiDocument(app);
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [target] = process.argv.slice(2);
  if (!target) throw new Error('usage: openapi-document.ts FILE');
  // Nothing else holds the process up while the application starts and closes (its workers are unref'd).
  const keepAlive = setInterval(() => undefined, 1000);
  void controlOpenApiDocument()
    .then((document) => writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`))
    .finally(() => clearInterval(keepAlive));
}
