/** Unit specs sit beside the code; end-to-end suites live in test/. */
const moduleNameMapper = {
  '^@dcm/(domain|persistence|protocol)$': '<rootDir>/libs/$1/src',
  '^@dcm/(domain|persistence|protocol)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  testEnvironment: 'node',
  moduleNameMapper,
};
module.exports = {
  testTimeout: 30_000,
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'] },
    { ...common, displayName: 'e2e', rootDir: '.', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
};
