/**
 * The folder-level rule of `npm run lint:deps`, run beside .dependency-cruiser.js on the application code alone: specs
 * and their shared fakes (apps/control/src/testing/) may reach into any feature without making its folder part of a
 * cycle.
 */
const { options } = require('./.dependency-cruiser');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles-between-feature-folders',
      comment: "Control's folders (features, common, config) depend one way: a helper two features need goes to common/.",
      severity: 'error',
      scope: 'folder',
      from: { path: '^apps/control/src/[^/]+' },
      to: { circular: true },
    },
  ],
  options: { ...options, exclude: { path: ['^(dist|data)/', '\\.spec\\.ts$', '^apps/control/src/testing/'] } },
};
