/** `npm run test:e2e`: test/, the real application on real databases, the real machine and real tools (two suites at a time). */
module.exports = {
  ...require('./jest.common'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
};
