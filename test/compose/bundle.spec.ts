import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import {
  composeMemoryBytes,
  mergeCompose,
  dockerfileViolations,
  dockerignoreViolations,
  invariantViolations,
  parseCompose,
  schemaViolations,
  type Doc,
} from './bundle-checks';

const root = join(__dirname, '..', '..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const clone = <T>(v: T): T => structuredClone(v);

describe('compose.yaml', () => {
  const doc = parseCompose(read('compose.yaml'));

  it('is valid against the Compose Specification JSON Schema', () => {
    expect(schemaViolations(doc)).toEqual([]);
  });

  it('keeps the bundle invariants (healthchecks, service_healthy, volumes, no literal secrets, local ports)', () => {
    expect(invariantViolations(doc)).toEqual([]);
  });

  it('declares the services of the bundle, mailpit only under the dev profile', () => {
    const services = doc.services as Record<string, Doc>;
    expect(Object.keys(services).sort()).toEqual(['eventstoredb', 'kafka', 'mailpit', 'postgres', 'reclaim']);
    expect(services.mailpit.profiles).toEqual(['dev']);
    for (const name of ['postgres', 'eventstoredb', 'kafka', 'reclaim'])
      expect(services[name].profiles).toBeUndefined();
  });

  it('configures reclaim with the contract variables', () => {
    const env = (doc.services as Record<string, Doc>).reclaim.environment as Record<string, string>;
    expect(env.EVENT_STORE).toBe('eventstoredb');
    expect(env.EVENTSTORE_URL).toContain('esdb://eventstoredb:2113');
    expect(env.KAFKA_BROKERS).toContain('kafka:9092');
    expect(env.DATABASE_URL).toBe('postgres://reclaim:${POSTGRES_PASSWORD:-}@postgres:5432/reclaim');
    // Secrets may come from .env or from files (compose.secrets.yaml sets NAME_FILE).
    for (const k of ['ADMIN_TOKEN', 'ANALYST_TOKEN', 'RECLAIM_MASTER_KEY']) expect(env[k]).toBe(`\${${k}:-}`);
    expect(env.PUBLIC_URL).toMatch(/^\$\{PUBLIC_URL:\?/);
  });

  it('runs Kafka in KRaft mode and keeps its log dir on the volume', () => {
    const kafka = (doc.services as Record<string, Doc>).kafka;
    const env = kafka.environment as Record<string, unknown>;
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_LOG_DIRS).toBe('/var/lib/kafka/data');
    expect(kafka.volumes).toContain('kafka-data:/var/lib/kafka/data');
  });

  it('mounts the analyst-role init script into postgres', () => {
    const pg = (doc.services as Record<string, Doc>).postgres;
    expect(pg.volumes).toContain('./docker/postgres/initdb.d:/docker-entrypoint-initdb.d:ro');
    expect(read('docker/postgres/initdb.d/10-analyst-role.sh')).toMatch(/CREATE ROLE reclaim_analyst/);
  });
});

describe('the compose checkers catch bad documents', () => {
  const good = parseCompose(read('compose.yaml'));
  const svc = (d: Doc, n: string) => (d.services as Record<string, Doc>)[n];

  it('schema: unknown keys and malformed durations are rejected', () => {
    const bad = clone(good);
    svc(bad, 'reclaim').restart_policy = 'always';
    (svc(bad, 'postgres').healthcheck as Doc).interval = 'ten seconds';
    const v = schemaViolations(bad);
    expect(v.some((m) => m.includes('additionalProperty') && m.includes('restart_policy'))).toBe(true);
    expect(v.some((m) => m.includes('/services/postgres/healthcheck/interval'))).toBe(true);
  });

  it('invariants: missing healthcheck, plain depends_on, no volume, literal secret, public port', () => {
    const bad = clone(good);
    delete svc(bad, 'kafka').healthcheck;
    svc(bad, 'reclaim').depends_on = ['postgres'];
    svc(bad, 'eventstoredb').volumes = ['/tmp/es:/var/lib/eventstore'];
    (svc(bad, 'reclaim').environment as Doc).ADMIN_TOKEN = 'hunter2';
    (svc(bad, 'reclaim').environment as Doc).DATABASE_URL = 'postgres://reclaim:hunter2@postgres:5432/reclaim';
    svc(bad, 'postgres').ports = ['5432:5432'];
    svc(bad, 'mailpit').environment = ['SMTP_PASSWORD_FILE=/etc/pw'];
    expect(invariantViolations(bad).sort()).toEqual(
      [
        'eventstoredb: stateful service without a named volume',
        'kafka: no healthcheck',
        'mailpit: SMTP_PASSWORD_FILE must point into /run/secrets/',
        'postgres: port "5432:5432" is not bound to 127.0.0.1',
        'reclaim: ADMIN_TOKEN holds a literal secret; use ${VAR} from .env or a compose secret',
        'reclaim: DATABASE_URL embeds a literal password in a URL',
        'reclaim: depends_on must use condition: service_healthy',
      ].sort(),
    );
  });

  it('invariants: a dependency started without waiting for health is flagged', () => {
    const bad = clone(good);
    svc(bad, 'reclaim').depends_on = { postgres: { condition: 'service_started' } };
    expect(invariantViolations(bad)).toEqual(['reclaim: depends_on postgres is not service_healthy']);
  });
});

describe('docker/Dockerfile and .dockerignore', () => {
  it('are multi-stage, non-root, health-checked, production-only and secret-free', () => {
    expect(dockerfileViolations(read('docker/Dockerfile'))).toEqual([]);
    expect(dockerignoreViolations(read('.dockerignore'))).toEqual([]);
  });

  it('the Dockerfile checker flags root, a missing HEALTHCHECK, dev dependencies and baked secrets', () => {
    const bad = [
      'FROM node:24-bookworm-slim',
      'ENV NODE_ENV=production ADMIN_TOKEN=abc123',
      'ARG NPM_TOKEN="s3cr3t"',
      'COPY .env ./',
      'RUN npm ci',
      'USER root',
      'CMD ["node", "main.js"]',
    ].join('\n');
    expect(dockerfileViolations(bad)).toEqual([
      'Dockerfile: not multi-stage',
      'Dockerfile: final stage runs as root',
      'Dockerfile: final stage has no HEALTHCHECK on /health',
      'Dockerfile: production dependencies are not installed with npm ci --omit=dev',
      'Dockerfile: ENV ADMIN_TOKEN bakes a secret-looking value into the image',
      'Dockerfile: ARG NPM_TOKEN bakes a secret-looking value into the image',
      'Dockerfile: copies .env into the image',
    ]);
  });

  it('the Dockerfile checker looks at the final stage: a USER in the build stage does not count', () => {
    const bad = [
      'FROM node:24 AS build',
      'USER node',
      'RUN npm ci --omit=dev',
      'FROM node:24',
      'HEALTHCHECK CMD curl -f http://localhost:3000/health',
    ].join('\n');
    expect(dockerfileViolations(bad)).toEqual(['Dockerfile: final stage runs as root']);
  });

  it('the .dockerignore checker flags missing exclusions', () => {
    expect(dockerignoreViolations('node_modules/\n# .env\n')).toEqual([
      '.dockerignore: does not exclude .env',
      '.dockerignore: does not exclude data',
    ]);
  });

  it('the image runs the Node major the project is tested on (20)', () => {
    const stages = read('docker/Dockerfile')
      .split('\n')
      .filter((line) => /^FROM\s/i.test(line));
    expect(stages.length).toBeGreaterThan(0);
    for (const stage of stages) expect(stage).toMatch(/^FROM node:20-bookworm-slim AS \w+$/);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=20\./);
    expect(read('.ci/run')).toMatch(/Node 20/);
  });

  it('.env is git-ignored and .env.example names every secret compose requires', () => {
    expect(read('.gitignore').split('\n')).toContain('.env');
    const composeWithoutComments = read('compose.yaml')
      .split('\n')
      .filter((l) => !l.trim().startsWith('#'))
      .join('\n');
    const required = [...composeWithoutComments.matchAll(/\$\{([A-Z_]+):\?/g)].map((m) => m[1]);
    const example = read('.env.example');
    expect(required.length).toBeGreaterThan(0);
    for (const name of new Set(required)) expect(example).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});

describe('docker/smoke.sh', () => {
  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n', join(root, 'docker/smoke.sh')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  const shellcheck = spawnSync('shellcheck', ['--version']).status === 0;
  (shellcheck ? it : it.skip)(`passes shellcheck${shellcheck ? '' : ' [skipped: shellcheck not installed]'}`, () => {
    execFileSync('shellcheck', [
      join(root, 'docker/smoke.sh'),
      join(root, 'docker/postgres/initdb.d/10-analyst-role.sh'),
    ]);
  });
});

describe('compose overrides, published ports and memory', () => {
  const base = parseCompose(read('compose.yaml'));
  const svc = (d: Doc, n: string) => (d.services as Record<string, Doc>)[n];

  it('publishes only the appliance: PostgreSQL, EventStoreDB and Kafka stay on the compose network', () => {
    for (const name of ['postgres', 'eventstoredb', 'kafka']) expect(svc(base, name).ports).toBeUndefined();
    expect(svc(base, 'reclaim').ports).toEqual(['${RECLAIM_HTTP_PORT:-3000}:3000']);
  });

  it('compose.ports.yaml publishes them on the loopback only, and the merged bundle is valid', () => {
    const merged = mergeCompose(base, parseCompose(read('compose.ports.yaml')));
    for (const name of ['postgres', 'eventstoredb', 'kafka'])
      expect(svc(merged, name).ports).toEqual([expect.stringMatching(/^127\.0\.0\.1:/)]);
    expect(schemaViolations(merged)).toEqual([]);
    expect(invariantViolations(merged)).toEqual([]);
  });

  it('compose.secrets.yaml hands the required secrets over as files, and the merged bundle is valid', () => {
    const merged = mergeCompose(base, parseCompose(read('compose.secrets.yaml')));
    expect(schemaViolations(merged)).toEqual([]);
    expect(invariantViolations(merged)).toEqual([]);
    const env = svc(merged, 'reclaim').environment as Record<string, string>;
    for (const k of ['DATABASE_URL', 'ADMIN_TOKEN', 'ANALYST_TOKEN', 'RECLAIM_MASTER_KEY', 'ANALYST_DB_PASSWORD'])
      expect(env[`${k}_FILE`]).toMatch(/^\/run\/secrets\//);
    expect((svc(merged, 'postgres').environment as Record<string, string>).POSTGRES_PASSWORD_FILE).toBe(
      '/run/secrets/postgres_password',
    );
  });

  it('every service has a memory limit and the bundle fits a 4 GB host (at most 3.5 GiB, dev profile aside)', () => {
    const services = Object.entries(base.services as Record<string, Doc>);
    for (const [name, s] of services) expect([name, typeof s.mem_limit]).toEqual([name, 'string']);
    const total = services
      .filter(([, s]) => s.profiles === undefined)
      .reduce((sum, [, s]) => sum + composeMemoryBytes(String(s.mem_limit)), 0);
    expect(total).toBeLessThanOrEqual(3.5 * 1024 ** 3);
    // The JVM and Node heaps stay inside their containers' limits.
    const heap = /-Xmx(\d+)m/.exec(String((svc(base, 'kafka').environment as Doc).KAFKA_HEAP_OPTS));
    expect(Number(heap?.[1]) * 1024 ** 2).toBeLessThan(composeMemoryBytes(String(svc(base, 'kafka').mem_limit)));
    const node = /--max-old-space-size=(\d+)/.exec(read('docker/Dockerfile'));
    expect(Number(node?.[1]) * 1024 ** 2).toBeLessThan(composeMemoryBytes(String(svc(base, 'reclaim').mem_limit)));
  });

  it('composeMemoryBytes reads compose sizes', () => {
    expect(composeMemoryBytes('768m')).toBe(768 * 1024 ** 2);
    expect(composeMemoryBytes('1g')).toBe(1024 ** 3);
    expect(() => composeMemoryBytes('lots')).toThrow(/not a size/);
  });
});

/** Debian's `docker-compose` (apt-get install docker-compose), when this machine has it. */
const dockerCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

describe('docker-compose config on .env.example with the secrets filled', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reclaim-compose-'));
  const filled = read('.env.example').replace(/^([A-Z_]+)=$/gm, (_, name: string) => `${name}=${'ab'.repeat(32)}`);
  const envFile = join(dir, '.env');
  writeFileSync(envFile, filled);
  const config = (env: string, ...files: string[]) =>
    spawnSync('docker-compose', ['--env-file', env, ...files.flatMap((f) => ['-f', join(root, f)]), 'config', '-q'], {
      cwd: root,
      encoding: 'utf8',
    });
  const skip = dockerCompose ? '' : ' [skipped: docker-compose not installed (Debian: apt-get install docker-compose)]';
  const test = dockerCompose ? it : it.skip;

  test(`passes for compose.yaml and each override${skip}`, () => {
    for (const files of [
      ['compose.yaml'],
      ['compose.yaml', 'compose.ports.yaml'],
      ['compose.yaml', 'compose.secrets.yaml'],
    ]) {
      const r = config(envFile, ...files);
      expect([files.join(' + '), r.status, r.stderr]).toEqual([files.join(' + '), 0, '']);
    }
  });

  test(`fails naming PUBLIC_URL when .env leaves it empty${skip}`, () => {
    const bad = join(dir, 'bad.env');
    writeFileSync(bad, filled.replace(/^PUBLIC_URL=.*$/m, 'PUBLIC_URL='));
    const r = config(bad, 'compose.yaml');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set PUBLIC_URL in \.env/);
  });
});
