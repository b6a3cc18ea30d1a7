import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlOpenApiDocument } from '../scripts/openapi-document';

const GENERATED = join(__dirname, '..', 'apps', 'cli', 'src', 'generated');
const REGENERATE = 'the API changed: run `npm run api-types` and commit apps/cli/src/generated/';

/** The CLI's response types are generated from control's OpenAPI document; this fails when either is stale. */
describe("the CLI's generated API types", () => {
  it("are made from control's OpenAPI document as it is now", async () => {
    const committed: unknown = JSON.parse(readFileSync(join(GENERATED, 'control-openapi.json'), 'utf8'));
    const current: unknown = JSON.parse(JSON.stringify(await controlOpenApiDocument()));
    if (JSON.stringify(committed) !== JSON.stringify(current)) throw new Error(REGENERATE);
  });

  it('are what openapi-typescript makes of that document', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'dcm-api-types-'));
    try {
      const output = join(scratch, 'control-api.ts');
      const bin = join(__dirname, '..', 'node_modules', '.bin');
      execFileSync(join(bin, 'openapi-typescript'), [join(GENERATED, 'control-openapi.json'), '--output', output], { stdio: 'ignore' });
      execFileSync(join(bin, 'prettier'), ['--write', output, '--config', join(__dirname, '..', '.prettierrc.json')], { stdio: 'ignore' });
      if (readFileSync(output, 'utf8') !== readFileSync(join(GENERATED, 'control-api.ts'), 'utf8')) throw new Error(REGENERATE);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
