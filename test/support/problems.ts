import { ApiResponse } from './api-client';

export const PROBLEM_JSON = /^application\/problem\+json\b/;

/** The parts of an RFC 9457 answer a client relies on, in one object so that a mismatch shows all of them at once. */
export function problemOf(response: ApiResponse) {
  return { status: response.status, code: response.body?.code, contentType: response.headers.get('content-type') };
}

/** Expects an RFC 9457 problem with this status and code, served as application/problem+json; returns its body. */
export function expectProblem(response: ApiResponse, status: number, code: string) {
  expect(problemOf(response)).toEqual({ status, code, contentType: expect.stringMatching(PROBLEM_JSON) });
  expect(response.body).toMatchObject({ type: `urn:dcm:problem:${code}`, status, code, detail: expect.any(String) });
  return response.body;
}

/** Expects a successful JSON answer with this status; returns its body. */
export function expectJson(response: ApiResponse, status: number) {
  expect({ status: response.status, contentType: response.headers.get('content-type') }).toEqual({
    status,
    contentType: expect.stringMatching(/^application\/json\b/),
  });
  return response.body;
}
