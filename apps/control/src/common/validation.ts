import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { Problems } from './problem';

function describe(errors: ValidationError[], prefix = ''): string[] {
  return errors.flatMap((error) => {
    const path = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      message.startsWith(error.property) || message.startsWith('property ') ? `${prefix ? `${prefix}.` : ''}${message}` : `${path}: ${message}`,
    );
    return [...own, ...describe(error.children ?? [], path)];
  });
}

/** Keys that reach an object's prototype when copied naively; class-transformer drops them silently instead of refusing. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const NOT_A_DTO: unknown[] = [undefined, Object, String, Number, Boolean, Array];

/** No DTO nests deeper than a few levels; a body nested past this is refused before anything recurses into it. */
const MAX_DEPTH = 16;

/** What is wrong with the shape of a parsed JSON body bound to a DTO: a prototype key or too deep a nesting, or null. */
export function bodyShapeProblem(value: unknown, path = '', depth = 0): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= MAX_DEPTH) return `${path}: nested more than ${MAX_DEPTH} levels deep`;
  for (const key of Object.keys(value)) {
    const here = Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (!Array.isArray(value) && PROTOTYPE_KEYS.has(key)) return `${here}: __proto__, constructor and prototype are not allowed as property names`;
    const nested = bodyShapeProblem((value as Record<string, unknown>)[key], here, depth + 1);
    if (nested) return nested;
  }
  return null;
}

/**
 * A body bound to a DTO class must be a JSON object (null, an array or a string would otherwise pass as an empty
 * update), may not carry __proto__, constructor or prototype keys at any depth, and may not nest deeper than MAX_DEPTH.
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && !NOT_A_DTO.includes(metadata.metatype)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw Problems.validation('the body must be a JSON object');
      const problem = bodyShapeProblem(value);
      if (problem) throw Problems.validation(problem);
    }
    return super.transform(value, metadata);
  }
}

/** Strict DTO validation: unknown properties are refused, and every problem is listed in one answer. */
export function createValidationPipe(): ValidationPipe {
  return new StrictValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const messages = describe(errors);
      return Problems.validation(messages.join('; '), messages);
    },
  });
}
