/** The hexagon as rules: `npm run deps:check` fails the build when code crosses a boundary. */
module.exports = {
  forbidden: [
    {
      name: 'domain-imports-no-framework-or-vendor',
      comment: 'Domain code stays free of Nest, stores, HTTP clients and cloud SDKs.',
      severity: 'error',
      from: { path: '^libs/[^/]+/src/domain/' },
      to: {
        path: 'node_modules/(@nestjs|ioredis|redlock|@aws-sdk|express|ldapts|undici|@willsoto|prom-client)',
      },
    },
    {
      name: 'domain-imports-no-outer-ring',
      comment: 'Domain code does not depend on application services or adapters.',
      severity: 'error',
      from: { path: '^libs/[^/]+/src/domain/' },
      to: { path: '^libs/[^/]+/src/(application|infrastructure)/|^apps/' },
    },
    {
      name: 'application-imports-no-adapters',
      comment: 'Use cases talk to ports, never to the adapters behind them.',
      severity: 'error',
      from: { path: '^libs/[^/]+/src/application/' },
      to: {
        path: '^libs/[^/]+/src/infrastructure/|node_modules/(ioredis|redlock|@aws-sdk|ldapts)',
      },
    },
    {
      name: 'libs-never-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'cross-lib-only-through-index',
      comment: 'Another lib is used through its public index (the @rhythm/<lib> alias).',
      severity: 'error',
      from: { path: '^(libs|apps)/([^/]+)/' },
      to: { path: '^libs/([^/]+)/src/.+', pathNot: ['^libs/$2/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|\\.spec\\.ts$|\\.e2e-spec\\.ts$|\\.int-spec\\.ts$|/testing/)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
