/** Both projects, for `npx jest <path>` on any spec; `npm test` runs them one after the other (see package.json). */
const { testTimeout, ...unit } = require('./jest.unit.config');
const { testTimeout: _, ...e2e } = require('./jest.e2e.config');

module.exports = { testTimeout, projects: [unit, e2e] };
