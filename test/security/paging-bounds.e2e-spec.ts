import { RunningControl, startControl } from '../support/control';
import { expectJson, expectProblem } from '../support/problems';

const INT64_MAX = '9223372036854775807';

describe('paging parameters', () => {
  let control: RunningControl;

  beforeAll(async () => {
    control = await startControl();
  });

  afterAll(async () => {
    await control?.close();
  });

  it.each([
    `/v1/allocations?offset=${INT64_MAX}`,
    '/v1/allocations?offset=18446744073709551616',
    '/v1/allocations?offset=1000000001',
    '/v1/allocations?offset=-1',
    '/v1/allocations?offset=1e30',
    `/v1/allocations?limit=${INT64_MAX}`,
    '/v1/allocations?limit=0',
    `/v1/audit?limit=${INT64_MAX}`,
    `/v1/audit?before=${INT64_MAX}`,
  ])('answers %s with 400 ValidationFailed', async (path) => {
    expectProblem(await control.api.get(path), 400, 'ValidationFailed');
  });

  it('serves the largest offset it accepts: an empty page', async () => {
    expect(expectJson(await control.api.get('/v1/allocations?status=all&offset=1000000000&limit=1000'), 200)).toEqual([]);
  });
});
