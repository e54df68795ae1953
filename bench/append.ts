/**
 * Append throughput: PostgresEventStore (group commit) vs raw single-row INSERTs vs Emmett's
 * PostgreSQL event store, 16 concurrent writers each, on one fresh database.
 *
 *   npm run bench:append            (DATABASE_URL, or an embedded PostgreSQL in a temp dir)
 *   BENCH_OPS=5000 npm run bench:append
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { startEmbeddedPostgres } from '@reclaim/database';
import { PostgresEventStore } from '@reclaim/event-store';

const WRITERS = 16;
const OPS = Number(process.env.BENCH_OPS ?? 20_000);
const WARMUP = Math.min(1_000, Math.ceil(OPS / 10));
/** Safety bound per measured phase: the rate is computed over the operations finished in time. */
const PHASE_LIMIT_MS = Number(process.env.BENCH_PHASE_LIMIT_MS ?? 30_000);

interface Phase {
  readonly name: string;
  readonly events: number;
  readonly ms: number;
}

/** Runs `op(writer, n)` from WRITERS concurrent loops until `total` operations are done or time runs out. */
async function drive(
  total: number,
  op: (writer: number, n: number) => Promise<void>,
): Promise<{ done: number; ms: number }> {
  let next = 0;
  let done = 0;
  const perWriter = new Array<number>(WRITERS).fill(0);
  const started = process.hrtime.bigint();
  const deadline = Date.now() + PHASE_LIMIT_MS;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      while (next < total && Date.now() < deadline) {
        next++;
        await op(w, perWriter[w]++);
        done++;
      }
    }),
  );
  return { done, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

interface Contender {
  readonly name: string;
  readonly op: (writer: number, n: number) => Promise<void>;
  teardown(): Promise<void>;
}

const ROUNDS = 4;

/**
 * Warm-up for each, then ROUNDS interleaved rounds of OPS / ROUNDS operations each, so that noise
 * from other work on the machine falls on all contenders alike.
 */
async function measureAll(contenders: readonly Contender[]): Promise<Phase[]> {
  for (const c of contenders) await drive(WARMUP, c.op);
  const totals = contenders.map((c) => ({ name: c.name, events: 0, ms: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, c] of contenders.entries()) {
      const { done, ms } = await drive(Math.ceil(OPS / ROUNDS), c.op);
      totals[i].events += done;
      totals[i].ms += ms;
      console.log(`  round ${round + 1} ${c.name}: ${((done / ms) * 1000).toFixed(0)} events/s`);
    }
  }
  return totals;
}

async function ours(url: string): Promise<Contender> {
  const pool = new Pool({ connectionString: url, max: 4 });
  await PostgresEventStore.migrate(pool);
  const store = new PostgresEventStore({ pool, notify: true });
  const run = randomUUID().slice(0, 8);
  const revisions = new Array<bigint | 'no_stream'>(WRITERS).fill('no_stream');
  return {
    name: 'reclaim PostgresEventStore',
    op: async (w) => {
      const r = await store.append(
        `bench-${run}-${w}`,
        [{ id: randomUUID(), type: 'BenchEvent', schemaVersion: 1, data: { writer: w, amount: '12.50' } }],
        revisions[w],
      );
      revisions[w] = r.nextExpectedRevision;
    },
    async teardown() {
      console.log(`  group commit: ${store.stats.appends} appends in ${store.stats.batches} transactions`);
      await store.close();
      await pool.end();
    },
  };
}

async function raw(url: string): Promise<Contender> {
  const setup = new Client({ connectionString: url });
  await setup.connect();
  await setup.query(
    'CREATE TABLE IF NOT EXISTS raw_events (id bigserial PRIMARY KEY, stream_id text NOT NULL, event_id uuid NOT NULL, type text NOT NULL, data jsonb NOT NULL)',
  );
  await setup.end();
  const clients = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  return {
    name: 'raw single-row INSERT',
    op: async (w) => {
      await clients[w].query('INSERT INTO raw_events (stream_id, event_id, type, data) VALUES ($1, $2, $3, $4)', [
        `raw-${w}`,
        randomUUID(),
        'BenchEvent',
        JSON.stringify({ writer: w, amount: '12.50' }),
      ]);
    },
    async teardown() {
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

async function emmett(url: string): Promise<Contender> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lib = require('@event-driven-io/emmett-postgresql') as typeof import('@event-driven-io/emmett-postgresql');
  const store = lib.getPostgreSQLEventStore(url);
  const run = randomUUID().slice(0, 8);
  const versions = new Array<bigint | undefined>(WRITERS).fill(undefined);
  return {
    name: 'emmett-postgresql appendToStream',
    op: async (w) => {
      const r = await store.appendToStream(
        `emmett-${run}-${w}`,
        [{ type: 'BenchEvent', data: { writer: w, amount: '12.50' } }],
        {
          expectedStreamVersion: versions[w] ?? 'STREAM_DOES_NOT_EXIST',
        },
      );
      versions[w] = r.nextExpectedStreamVersion;
    },
    teardown: () => store.close(),
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  let tempDir: string | undefined;
  if (!serverUrl) {
    tempDir = await mkdtemp(join(tmpdir(), 'reclaim-bench-'));
    const pg = await startEmbeddedPostgres({ dataDir: tempDir, persistent: false, port: 55500 });
    serverUrl = pg.url;
    stopEmbedded = () => pg.stop();
  }
  const dbName = `reclaim_bench_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const { rows } = await admin.query<{ fsync: string; sc: string }>(
    "SELECT current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sc",
  );
  const url = new URL(serverUrl);
  url.pathname = `/${dbName}`;
  console.log(
    `append bench: ${WRITERS} writers, ${OPS} measured ops after ${WARMUP} warm-up, 1 event per append (fsync=${rows[0].fsync}, synchronous_commit=${rows[0].sc})`,
  );
  try {
    const contenders = [await ours(url.toString()), await raw(url.toString()), await emmett(url.toString())];
    let phases: Phase[];
    try {
      phases = await measureAll(contenders);
    } finally {
      for (const c of contenders) await c.teardown();
    }
    const [o, r, e] = phases;
    const rate = (p: Phase) => (p.events / p.ms) * 1000;
    console.log('\n| store | events | ms | events/s |\n|---|---:|---:|---:|');
    for (const p of phases) console.log(`| ${p.name} | ${p.events} | ${p.ms.toFixed(0)} | ${rate(p).toFixed(0)} |`);
    console.log(`\nours/raw    = ${(rate(o) / rate(r)).toFixed(2)}x (target >= 1x)`);
    console.log(`ours/emmett = ${(rate(o) / rate(e)).toFixed(2)}x (target >= 3x)`);
    console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    if (stopEmbedded) await stopEmbedded();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}

// DROP DATABASE … WITH (FORCE) ends connections a library may still keep idle: that is expected here.
process.on('uncaughtException', (err: unknown) => {
  if ((err as { code?: string }).code === '57P01') return;
  console.error(err);
  process.exit(1);
});

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
