import { HttpException, HttpStatus } from '@nestjs/common';

export const PROBLEM_CODES = [
  'ValidationFailed',
  'Unauthenticated',
  'Forbidden',
  'NotFound',
  'MethodNotAllowed',
  'Conflict',
  'QuotaExceeded',
  'InsufficientCapacity',
  'TenantFrozen',
  'PayloadTooLarge',
  'UnsupportedMediaType',
  'RateLimited',
  'Unavailable',
  'InternalError',
] as const;
export type ProblemCode = (typeof PROBLEM_CODES)[number];

const TITLES: Record<ProblemCode, string> = {
  ValidationFailed: 'The request is not valid',
  Unauthenticated: 'Authentication is required',
  Forbidden: 'Not allowed',
  NotFound: 'Not found',
  MethodNotAllowed: 'Method not allowed',
  Conflict: 'Conflict with the current state',
  QuotaExceeded: 'The tenant quota would be exceeded',
  InsufficientCapacity: 'No host has the capacity',
  TenantFrozen: 'The tenant is frozen',
  PayloadTooLarge: 'The request body is too large',
  UnsupportedMediaType: 'Unsupported media type',
  RateLimited: 'Too many requests',
  Unavailable: 'Service unavailable',
  InternalError: 'Internal error',
};

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** RFC 9457 problem details with dcm's stable `code`. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

export function problemType(code: ProblemCode): string {
  return `urn:dcm:problem:${code}`;
}

export class ProblemException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: ProblemCode,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail, status);
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: problemType(this.code),
      title: TITLES[this.code],
      status: this.getStatus(),
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export function problemFor(status: number, code: ProblemCode, detail: string, instance?: string): ProblemDetails {
  return new ProblemException(status, code, detail).toProblem(instance);
}

export const Problems = {
  validation: (detail: string, errors: string[] = [detail]) => new ProblemException(HttpStatus.BAD_REQUEST, 'ValidationFailed', detail, { errors }),
  notFound: (what: string) => new ProblemException(HttpStatus.NOT_FOUND, 'NotFound', `${what} does not exist`),
  conflict: (detail: string, extensions?: Record<string, unknown>) => new ProblemException(HttpStatus.CONFLICT, 'Conflict', detail, extensions),
  unauthenticated: (detail: string) => new ProblemException(HttpStatus.UNAUTHORIZED, 'Unauthenticated', detail),
  forbidden: (detail: string) => new ProblemException(HttpStatus.FORBIDDEN, 'Forbidden', detail),
  tenantFrozen: (slug: string) =>
    new ProblemException(HttpStatus.CONFLICT, 'TenantFrozen', `tenant ${slug} is frozen: new allocations are refused until it is back under its quotas`, {
      tenant: slug,
    }),
};
