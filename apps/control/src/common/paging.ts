import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { OptionalNotNull } from './validators';

export const DEFAULT_PAGE_LIMIT = 100;
const MAX_PAGE_LIMIT = 1000;
/** Far beyond any list's length, and well inside what every database takes as an OFFSET (a 64-bit integer). */
const MAX_PAGE_OFFSET = 1_000_000_000;

/** A list's `?limit=`: how many items a page holds, 1 to 1,000 (default 100). */
export const PageLimit = () =>
  applyDecorators(
    ApiPropertyOptional({ default: DEFAULT_PAGE_LIMIT, maximum: MAX_PAGE_LIMIT }),
    OptionalNotNull(),
    Type(() => Number),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_LIMIT),
  );

/** A list's `?offset=`: how many items to skip, 0 to 1,000,000,000 (default 0). */
export const PageOffset = () =>
  applyDecorators(
    ApiPropertyOptional({ default: 0, maximum: MAX_PAGE_OFFSET }),
    OptionalNotNull(),
    Type(() => Number),
    IsInt(),
    Min(0),
    Max(MAX_PAGE_OFFSET),
  );
