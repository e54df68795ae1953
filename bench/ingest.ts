/**
 * npm run bench:ingest — webhook ingestion, measured against a naive baseline in the same run on
 * the same database server:
 *   (a) Reclaim: signed Shopify `checkouts/update` deliveries (~3 KB) → verify HMAC on the raw
 *       bytes, lossless parse + map, shop lookup, seal the payload (AES-256-GCM), dedupe through
 *       the delivery stream, durable append (group commit) → 200.
 *   (b) baseline: a minimal node:http server doing one plain INSERT per request.
 *   (c) Reclaim with every role on (engine, projector, relay working behind the webhooks).
 * Each server runs in its own process; autocannon (50 connections, a fixed number of requests,
 * 10% of them re-sending an earlier delivery) runs here. 80% of the checkouts come from a new
 * customer (an address never seen before), 20% from one of 1,000 returning ones; every body is its
 * own cart. Rounds interleave the servers (BENCH_ROUNDS, default 2). The rate is requests answered
 * / wall time of the measured phase (not autocannon's per-second sample mean, which a partial last
 * second skews). Prints req/s, p99, the ratios, and checks every acknowledged delivery was stored
 * exactly once. Figures, not assertions.
 * BENCH_BASE_DIR=<checkout> adds that checkout's server (roles off, one process) to every round;
 * BENCH_INGEST_PROCESSES=N runs the roles-off server as N processes sharing the port (node:cluster).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { startEmbeddedPostgres } from '@reclaim/database';
import { BENCH_DOMAIN, BENCH_SECRET } from './ingest-shared';

const CONNECTIONS = 50;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 30_000);
const DUPLICATE_EVERY = 10;
const MASTER_KEY = randomBytes(32).toString('base64');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const RETURNING_CUSTOMERS = 1_000;

/** 80% new customers, 20% one of RETURNING_CUSTOMERS returning ones. */
function customerOf(i: number): number {
  return i % 5 === 4 ? 1_000_000_000 + (i % RETURNING_CUSTOMERS) : i;
}

function checkoutBody(i: number): string {
  const c = customerOf(i);
  const items = Array.from({ length: 6 }, (_, k) => ({
    key: `line-${k}`,
    product_id: `78234567890123${k}`,
    variant_id: `91234567890123${k}`,
    sku: `SKU-${i}-${k}`,
    title: `Product ${k} with a reasonably descriptive title for realism`,
    variant_title: 'Large / Blue',
    quantity: 1 + (k % 3),
    price: `${19 + k}.90`,
    vendor: 'Bench Vendor',
    image_url: `https://cdn.example.com/products/${k}.jpg`,
    properties: { gift_wrap: 'no', note: 'Deliver to the back door, please; the bell is broken.' },
  }));
  return JSON.stringify({
    id: `9007199254740993${i}`,
    token: `bench-token-${i}`,
    cart_token: `bench-cart-${i}`,
    email: `shopper${c}@example.com`,
    phone: '+14155550123',
    created_at: '2026-11-20T10:00:00-05:00',
    updated_at: '2026-11-20T10:05:00-05:00',
    completed_at: null,
    currency: 'USD',
    subtotal_price: '150.00',
    total_price: '150.00',
    total_tax: '0.00',
    landing_site: '/products/lamp?utm_source=newsletter&utm_medium=email&utm_campaign=autumn',
    referring_site: 'https://search.example/?q=brass+desk+lamp',
    abandoned_checkout_url: `https://bench.example/checkouts/${i}/recover?key=0123456789abcdef`,
    source_name: 'web',
    line_items: items,
    customer: {
      id: `601234567890${c}`,
      email: `shopper${c}@example.com`,
      first_name: 'Bench',
      last_name: 'Shopper',
      orders_count: 3,
    },
    billing_address: {
      first_name: 'Bench',
      last_name: 'Shopper',
      address1: '1 Loop Road',
      city: 'Springfield',
      zip: '12345',
      country: 'US',
    },
    shipping_address: {
      first_name: 'Bench',
      last_name: 'Shopper',
      address1: '1 Loop Road',
      city: 'Springfield',
      zip: '12345',
      country: 'US',
    },
  });
}

type Mode = 'naive' | 'reclaim' | 'reclaim-all' | 'reclaim-base';

/** BENCH_BASE_DIR: another checkout of Reclaim (e.g. the previous commit), run as `reclaim-base` (roles off). */
const BASE_DIR = process.env.BENCH_BASE_DIR;

function startServer(mode: Mode, dbUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR && mode !== 'naive'
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      mode === 'reclaim-base' ? resolve(BASE_DIR!, 'bench/ingest-server.ts') : resolve(__dirname, 'ingest-server.ts'),
      mode === 'reclaim-base' ? 'reclaim' : mode,
    ],
    {
      ...(mode === 'reclaim-base' ? { cwd: BASE_DIR } : {}),
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        BENCH_MASTER_KEY: MASTER_KEY,
        // The base server runs as one process (BENCH_BASE_DIR=. compares one process with several).
        ...(mode === 'reclaim-base' ? { BENCH_INGEST_PROCESSES: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      const m = /READY (\d+)/.exec(d.toString());
      if (m) ok({ child, port: Number(m[1]) });
    });
    child.once('exit', (code) => fail(new Error(`${mode} server exited (${code})`)));
  });
}

async function stopServer(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Measured {
  result: autocannon.Result;
  acknowledged: Set<string>;
  /** Requests answered (any status) and the wall time of the phase. */
  answered: number;
  ms: number;
}

let offset = 0;

async function load(
  port: number,
  path: string,
  amount: number,
  bodies: { body: string; hmac: string }[],
): Promise<Measured> {
  let n = 0;
  let answered = 0;
  const started = process.hrtime.bigint();
  let last = randomUUID();
  const acknowledged = new Set<string>();
  const result = await autocannon({
    url: `http://127.0.0.1:${port}${path}`,
    connections: CONNECTIONS,
    amount,
    requests: [
      {
        method: 'POST',
        setupRequest: (req: any, context: any) => {
          const i = n++;
          // Every 10th request re-sends an earlier delivery (same id, same body): a duplicate.
          const duplicate = i % DUPLICATE_EVERY === DUPLICATE_EVERY - 1;
          const id = duplicate ? last : randomUUID();
          last = id;
          context.id = id;
          const s = bodies[(offset + (duplicate ? i - 1 : i)) % bodies.length];
          return {
            ...req,
            body: s.body,
            headers: {
              'content-type': 'application/json',
              'x-shopify-topic': 'checkouts/update',
              'x-shopify-shop-domain': BENCH_DOMAIN,
              'x-shopify-api-version': '2025-01',
              'x-shopify-webhook-id': id,
              'x-shopify-hmac-sha256': s.hmac,
            },
          };
        },
        onResponse: (status: number, _body: string, context: any) => {
          answered++;
          if (status >= 200 && status < 300) acknowledged.add(context.id);
        },
      },
    ],
  } as any);
  offset += n;
  return { result, acknowledged, answered, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

async function main(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'reclaim-bench-'));
  if (!serverUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), persistent: false });
    serverUrl = pg.url;
    stopEmbedded = () => pg.stop();
  }
  const dbName = `reclaim_bench_${Date.now()}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = Object.assign(new URL(serverUrl), { pathname: `/${dbName}` }).toString();
  const db = new Client({ connectionString: dbUrl });
  await db.connect();

  // One body per request of the whole run (every request its own cart), generated before measuring.
  const total = ROUNDS * 3 * (REQUESTS + 2_000);
  const bodies = Array.from({ length: total }, (_, i) => {
    const body = checkoutBody(i);
    return { body, hmac: createHmac('sha256', BENCH_SECRET).update(body).digest('base64') };
  });
  console.log(
    `body ≈ ${(Buffer.byteLength(bodies[0].body) / 1024).toFixed(1)} KB, ${CONNECTIONS} connections, ${REQUESTS} requests each (every ${DUPLICATE_EVERY}th a duplicate)`,
  );

  const names: Record<Mode, string> = {
    naive: 'naive node:http + INSERT',
    reclaim: `Reclaim /webhooks/shopify, roles off${
      Number(process.env.BENCH_INGEST_PROCESSES ?? 1) > 1 ? `, ${process.env.BENCH_INGEST_PROCESSES} processes` : ''
    }`,
    'reclaim-all': 'Reclaim /webhooks/shopify, all roles on',
    'reclaim-base': `Reclaim of ${BASE_DIR ?? 'BENCH_BASE_DIR'}, roles off`,
  };
  // BENCH_MODES narrows a run (e.g. `reclaim` to profile one server); the ratios need naive in it.
  const modes = (
    process.env.BENCH_MODES ?? `naive,reclaim,reclaim-all${BASE_DIR === undefined ? '' : ',reclaim-base'}`
  ).split(',') as Mode[];
  if (modes.includes('reclaim-base') && BASE_DIR === undefined) throw new Error('reclaim-base needs BENCH_BASE_DIR');
  const totals = new Map<
    Mode,
    { answered: number; ms: number; p99: number[]; acknowledged: number; stored: number; non2xx: number }
  >();
  /** Each round's rate per server: ratios are taken within a round (same minutes of machine load). */
  const perRound: Map<Mode, number>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const rates = new Map<Mode, number>();
    perRound.push(rates);
    // Alternate the order between rounds so no server always runs first after a quiet spell.
    for (const mode of round % 2 === 1 ? modes : [...modes].reverse()) {
      const { child, port } = await startServer(mode, dbUrl);
      const path = mode === 'naive' ? '/' : '/webhooks/shopify';
      await load(port, path, 2_000, bodies); // warm-up
      const before = await count(db, mode);
      const m = await load(port, path, REQUESTS, bodies);
      const stored = (await count(db, mode)) - before;
      await stopServer(child);
      const t = totals.get(mode) ?? { answered: 0, ms: 0, p99: [], acknowledged: 0, stored: 0, non2xx: 0 };
      t.answered += m.answered;
      t.ms += m.ms;
      t.p99.push(m.result.latency.p99);
      t.acknowledged += m.acknowledged.size;
      t.stored += stored;
      t.non2xx += m.result.non2xx + m.result.errors + m.result.timeouts;
      totals.set(mode, t);
      rates.set(mode, (m.answered / m.ms) * 1000);
      console.log(
        `  round ${round} ${names[mode]}: ${((m.answered / m.ms) * 1000).toFixed(0)} req/s, p99 ${m.result.latency.p99} ms`,
      );
    }
  }

  console.log('\n| server | req/s | p99 ms (per round) | not 2xx | distinct acknowledged | stored |');
  console.log('|---|---:|---|---:|---:|---:|');
  const rate = (m: Mode) => (totals.get(m)!.answered / totals.get(m)!.ms) * 1000;
  for (const mode of modes) {
    const t = totals.get(mode)!;
    console.log(
      `| ${names[mode]} | ${rate(mode).toFixed(0)} | ${t.p99.join(', ')} | ${t.non2xx} | ${t.acknowledged} | ${mode === 'naive' ? '—' : t.stored} |`,
    );
  }
  const has = (m: Mode) => totals.has(m);
  const ratios = (a: Mode, b: Mode) => {
    const r = perRound.map((x) => x.get(a)! / x.get(b)!).sort((x, y) => x - y);
    const median = r.length % 2 ? r[(r.length - 1) / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    return `median ${median.toFixed(2)}× (rounds: ${perRound.map((x) => (x.get(a)! / x.get(b)!).toFixed(2)).join(', ')})`;
  };
  if (has('reclaim') && has('naive'))
    console.log(
      `\nratio Reclaim (roles off) / naive: ${(rate('reclaim') / rate('naive')).toFixed(2)}× over all rounds, ${ratios('reclaim', 'naive')} (target ≥ 1×)`,
    );
  if (has('reclaim-base') && has('reclaim'))
    console.log(`ratio Reclaim (roles off) / ${names['reclaim-base']}: ${ratios('reclaim', 'reclaim-base')}`);
  if (has('reclaim-base') && has('naive'))
    console.log(`ratio ${names['reclaim-base']} / naive: ${ratios('reclaim-base', 'naive')}`);
  if (has('reclaim-all'))
    console.log(
      `Reclaim, all roles on: ${rate('reclaim-all').toFixed(0)} req/s (target ≥ 2,000, p99 < 100 ms)${has('naive') ? `; ${(rate('reclaim-all') / rate('naive')).toFixed(2)}× naive` : ''}`,
    );
  for (const mode of (['reclaim', 'reclaim-all', 'reclaim-base'] as const).filter(has)) {
    const t = totals.get(mode)!;
    console.log(
      `${names[mode]}: ${t.acknowledged} distinct deliveries acknowledged, ${t.stored} stored → ${
        t.stored === t.acknowledged ? 'every acknowledged delivery stored exactly once' : 'MISMATCH'
      }`,
    );
  }

  await db.end();
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();
  if (stopEmbedded) await stopEmbedded();
  await rm(dataDir, { recursive: true, force: true });
}

async function count(db: Client, mode: Mode): Promise<number> {
  const sql =
    mode === 'naive'
      ? 'SELECT count(*)::int AS n FROM naive_deliveries'
      : `SELECT count(*)::int AS n FROM event_store.events WHERE stream_id LIKE 'delivery-shopify-%'`;
  const { rows } = await db.query(sql).catch(() => ({ rows: [{ n: 0 }] }));
  return rows[0].n;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
