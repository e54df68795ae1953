/** Test tiers by file name: *.spec.ts (pure), *.int.spec.ts (real Postgres),
 *  *.e2e.spec.ts (HTTP in), *.containers.spec.ts (needs Docker; skipped with a reason without it). */
const { pathsToModuleNameMapper } = require('ts-jest');
const { compilerOptions } = require('./tsconfig.json');

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test'],
  testRegex: '\\.spec\\.ts$',
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
    // ESM-only packages pulled in by @fastify/static (OpenAPI UI): compiled to CommonJS for Jest on Node 20.
    '/node_modules/content-disposition/.+\\.js$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json', diagnostics: false }],
  },
  transformIgnorePatterns: ['/node_modules/(?!content-disposition/)'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  globalSetup: '<rootDir>/libs/testing/src/jest/global-setup.ts',
  // Stand-ins on 127.0.0.1: the outbound URL guard's private-network opt-in, explicit (R22).
  setupFiles: ['<rootDir>/libs/testing/src/jest/outbound-policy.ts'],
  globalTeardown: '<rootDir>/libs/testing/src/jest/global-teardown.ts',
  reporters: ['default', '<rootDir>/libs/testing/src/jest/skipped-reporter.js'],
  testTimeout: 60000,
  // One worker: the end-to-end suites run the whole appliance (timers, subscriptions, a browser) and
  // are timing-sensitive when two of them share this 2-core machine with PostgreSQL.
  maxWorkers: 1,
};
