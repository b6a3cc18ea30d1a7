import { isDatabaseUnavailable } from './dialect';

describe(isDatabaseUnavailable.name, () => {
  it('is false for errors that are not about the database', () => {
    expect(isDatabaseUnavailable(new Error('tenant torfaen does not exist'))).toBe(false);
    expect(isDatabaseUnavailable(null)).toBe(false);
  });
});
