/** What the unit and e2e projects share (jest.unit.config.js, jest.e2e.config.js; jest.config.js runs both). */
module.exports = {
  rootDir: __dirname,
  testTimeout: 30_000,
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: { isolatedModules: true } }],
  },
  testEnvironment: 'node',
  moduleNameMapper: {
    '^@dcm/(domain|persistence|protocol)$': '<rootDir>/libs/$1/src',
    '^@dcm/(domain|persistence|protocol)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
};
