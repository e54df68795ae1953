/**
 * npm run bench:ingest — webhook ingestion, measured against a naive baseline in the same run on
 * the same database server:
 *   (a) Reclaim: signed Shopify `checkouts/update` deliveries (~3 KB) → verify HMAC on the raw
 *       bytes, lossless parse + map, shop lookup, seal the payload (AES-256-GCM), dedupe through
 *       the delivery stream, durable append (group commit) → 200.
 *   (b) baseline: a minimal node:http server doing one plain INSERT per request.
 * Each server runs in its own process; autocannon (50 connections, a fixed number of requests,
 * 10% of them re-sending an earlier delivery) runs here. Prints requests/s, p99 and the ratio,
 * and checks every acknowledged delivery was stored exactly once. Figures, not assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
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

function checkoutBody(i: number): string {
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
    email: `shopper${i}@example.com`,
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
      id: `601234567890${i}`,
      email: `shopper${i}@example.com`,
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

function startServer(mode: 'naive' | 'reclaim', dbUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_PROFILE_DIR && mode === 'reclaim'
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      resolve(__dirname, 'ingest-server.ts'),
      mode,
    ],
    { env: { ...process.env, DATABASE_URL: dbUrl }, stdio: ['ignore', 'pipe', 'inherit'] },
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
}

async function load(
  port: number,
  path: string,
  amount: number,
  bodies: { body: string; hmac: string }[],
): Promise<Measured> {
  let n = 0;
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
          const id = i % DUPLICATE_EVERY === DUPLICATE_EVERY - 1 ? last : randomUUID();
          last = id;
          context.id = id;
          const s = bodies[i % bodies.length];
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
          if (status >= 200 && status < 300) acknowledged.add(context.id);
        },
      },
    ],
  } as any);
  return { result, acknowledged };
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

  const bodies = Array.from({ length: 512 }, (_, i) => {
    const body = checkoutBody(i);
    return { body, hmac: createHmac('sha256', BENCH_SECRET).update(body).digest('base64') };
  });
  console.log(
    `body ≈ ${(Buffer.byteLength(bodies[0].body) / 1024).toFixed(1)} KB, ${CONNECTIONS} connections, ${REQUESTS} requests each (every ${DUPLICATE_EVERY}th a duplicate)`,
  );

  const results: { name: string; m: Measured; stored: number }[] = [];
  for (const mode of ['naive', 'reclaim'] as const) {
    const { child, port } = await startServer(mode, dbUrl);
    const path = mode === 'naive' ? '/' : '/webhooks/shopify';
    await load(port, path, 2_000, bodies); // warm-up
    const before = await count(db, mode);
    const m = await load(port, path, REQUESTS, bodies);
    const stored = (await count(db, mode)) - before;
    await stopServer(child);
    results.push({ name: mode === 'naive' ? 'naive node:http + INSERT' : 'Reclaim /webhooks/shopify', m, stored });
  }

  console.log('\n| server | req/s (mean) | p50 ms | p99 ms | 2xx | non-2xx | errors+timeouts | rows stored |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const { name, m, stored } of results) {
    const r = m.result;
    console.log(
      `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r['2xx']} | ${r.non2xx} | ${r.errors + r.timeouts} | ${stored} |`,
    );
  }
  const [base, ours] = results;
  console.log(
    `\nratio Reclaim / naive (req/s): ${(ours.m.result.requests.average / base.m.result.requests.average).toFixed(2)}×`,
  );
  const unique = ours.m.acknowledged.size;
  console.log(
    `Reclaim: ${ours.m.result['2xx']} acknowledged requests for ${unique} distinct deliveries; stored ${ours.stored} → ${
      ours.stored === unique ? 'every acknowledged delivery stored exactly once' : 'MISMATCH'
    }`,
  );

  await db.end();
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();
  if (stopEmbedded) await stopEmbedded();
  await rm(dataDir, { recursive: true, force: true });
}

async function count(db: Client, mode: 'naive' | 'reclaim'): Promise<number> {
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
