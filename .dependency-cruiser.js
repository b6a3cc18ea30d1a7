/**
 * The house's boundaries, checked by `npm run lint` (see ARCHITECTURE.md). Each rule names the boundary it keeps;
 * a violation names the import that crosses it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'apps-never-import-apps',
      comment: 'An app is a thin shell: what two apps share moves to a lib.',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-never-import-apps',
      comment: 'Libraries sit below the apps that use them.',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'libs/domain holds the rules as plain functions: no Nest, no TypeORM, no node: module (no I/O).',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: {
        dependencyTypesNot: ['local'],
        pathNot: '(^|/)node_modules/fast-check/',
      },
    },
    {
      name: 'domain-imports-no-other-lib',
      comment: 'The domain is the bottom of the house: persistence and protocol may use it, not the other way round.',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: '^libs/(?!domain/)' },
    },
    {
      name: 'code-never-imports-tests',
      comment: 'Nothing under apps/ or libs/ depends on test/ (fixtures and support code are for tests only).',
      severity: 'error',
      from: { path: '^(apps|libs)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-cycles-between-files',
      comment: 'Files import each other one way (TypeORM entities that name each other in relations excepted).',
      severity: 'error',
      from: { pathNot: '^libs/persistence/src/entities/' },
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|data)/' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
