import { ApiDefaultResponse, ApiExtraModels, ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { applyDecorators } from '@nestjs/common';
import { PROBLEM_CODES, PROBLEM_CONTENT_TYPE, ProblemCode } from './problem';

/** The body of every error answer: RFC 9457 problem details with dcm's stable `code` (and extensions per code). */
export class ProblemDetailsDto {
  @ApiProperty({ example: 'urn:dcm:problem:NotFound' }) type: string;
  @ApiProperty() title: string;
  @ApiProperty() status: number;
  @ApiProperty({ enum: PROBLEM_CODES }) code: ProblemCode;
  @ApiProperty() detail: string;
  @ApiPropertyOptional() instance?: string;
  /** QuotaExceeded: which class, how much was asked, the limit and what is allocated. */
  @ApiPropertyOptional() resource?: string;
  @ApiPropertyOptional() requested?: number;
  @ApiPropertyOptional() limit?: number;
  @ApiPropertyOptional() allocated?: number;
  /** ValidationFailed: one message per bad field. */
  @ApiPropertyOptional({ type: [String] }) errors?: string[];
}

/** Every answer other than the documented success is a problem (application/problem+json). */
export const ApiProblems = () =>
  applyDecorators(
    ApiExtraModels(ProblemDetailsDto),
    ApiDefaultResponse({
      description: 'A problem (RFC 9457): the error answer of every route',
      content: { [PROBLEM_CONTENT_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsDto) } } },
    }),
  );
