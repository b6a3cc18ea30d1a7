import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/**
 * Control's OpenAPI document, served at /docs-json; `npm run api-types` writes it to apps/cli/src/generated/ and
 * generates the CLI's response types from it.
 */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  return SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('dcm')
      .setDescription('Shared data-centre hosting and capacity manager: tenants, quotas, hosts, allocations and capacity')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
}
