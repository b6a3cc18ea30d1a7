/**
 * `npm run test:unit`: the specs beside the code. No database server, no network, no process of the machine (df, du):
 * test/support/unit-guard.ts refuses them, so the suite runs anywhere in seconds.
 */
module.exports = {
  ...require('./jest.common'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'],
  setupFiles: ['<rootDir>/test/support/unit-guard.ts'],
};
