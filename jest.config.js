/** One jest run covers unit (*.spec.ts next to the code), e2e and integration tests (test/). */

module.exports = {
  rootDir: '.',
  moduleFileExtensions: ['js', 'json', 'ts'],
  testEnvironment: 'node',
  testRegex: '.*\\.(spec|e2e-spec|int-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  transform: {
    // The Swagger plugin runs under jest too, so the OpenAPI test sees what `nest build` documents.
    '^.+\\.ts$': [
      'ts-jest',
      { astTransformers: { before: ['<rootDir>/test/support/swagger-plugin-transformer.js'] } },
    ],
  },
  moduleNameMapper: {
    '^@rhythm/(jobs|scheduling|runners|authz|mesos-adapter)$': '<rootDir>/libs/$1/src',
    '^@rhythm/(jobs|scheduling|runners|authz|mesos-adapter)/(.*)$': '<rootDir>/libs/$1/src/$2',
  },
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  testTimeout: 20000,
};
