/**
 * npm run bench:ingest — webhook ingestion throughput, measured against a naive baseline in the
 * same run on the same database server:
 *   (a) Reclaim: signed Shopify `checkouts/update` deliveries (~3 KB) → verify HMAC, lossless
 *       parse + map, shop lookup, seal the payload (AES-256-GCM), dedupe via the delivery
 *       stream, durable append (group commit) → 200.
 *   (b) baseline: a minimal node:http server doing one plain INSERT per request.
 * 50 connections (autocannon), fixed duration each. Prints requests/s, p99 and the ratio, and
 * checks that every acknowledged delivery was stored exactly once. Figures, not assertions.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client, Pool } from 'pg';
import pino from 'pino';
import { startEmbeddedPostgres } from '@reclaim/database';
import { createApp } from '../apps/reclaim/src/bootstrap';
import { loadConfig } from '../apps/reclaim/src/config/app-config';
import { createRuntime } from '../apps/reclaim/src/runtime/runtime';

const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const SECRET = 'bench-secret-0123456789';
const DOMAIN = 'bench.myshopify.com';

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
  }));
  const body = {
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
    landing_site: '/products/lamp?utm_source=newsletter',
    referring_site: 'https://search.example/',
    abandoned_checkout_url: `https://bench.example/checkouts/${i}/recover`,
    line_items: items,
    customer: { id: `601234567890${i}`, email: `shopper${i}@example.com`, first_name: 'Bench', last_name: 'Shopper' },
    billing_address: {
      first_name: 'Bench',
      last_name: 'Shopper',
      address1: '1 Loop Road',
      city: 'Springfield',
      country: 'US',
    },
  };
  return JSON.stringify(body);
}

async function run(url: string, requests: autocannon.Request[]): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, requests });
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

  const bodies = Array.from({ length: 256 }, (_, i) => checkoutBody(i));
  const signed = bodies.map((b) => ({ body: b, hmac: createHmac('sha256', SECRET).update(b).digest('base64') }));
  console.log(
    `body size ≈ ${Math.round(Buffer.byteLength(bodies[0]) / 100) / 10} KB, ${CONNECTIONS} connections, ${DURATION_S} s each`,
  );

  // (b) the naive baseline: one INSERT per request.
  const basePool = new Pool({ connectionString: dbUrl, max: 24 });
  await basePool.query(
    'CREATE TABLE naive_deliveries (id bigserial PRIMARY KEY, delivery_id text, body text, received_at timestamptz default now())',
  );
  const naive = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      basePool
        .query('INSERT INTO naive_deliveries (delivery_id, body) VALUES ($1, $2)', [
          req.headers['x-shopify-webhook-id'],
          Buffer.concat(chunks).toString('utf8'),
        ])
        .then(() => res.writeHead(200).end('ok'))
        .catch(() => res.writeHead(503).end());
    });
  });
  await new Promise<void>((r) => naive.listen(0, '127.0.0.1', r));
  const naivePort = (naive.address() as { port: number }).port;

  // (a) Reclaim, background processing off so the figure is the acknowledgement path alone.
  const config = loadConfig({
    DATABASE_URL: dbUrl,
    DATA_DIR: dataDir,
    ADMIN_TOKEN: 'bench-admin-token',
    RECLAIM_MASTER_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    ROLES: 'none',
  });
  const log = pino({ level: 'silent' });
  const runtime = await createRuntime(config, { log });
  await runtime.shops.register({
    platform: 'shopify',
    shopDomain: DOMAIN,
    webhookSecret: SECRET,
    apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
    apiToken: 'x',
    currency: 'USD',
    timezone: 'UTC',
  });
  const app = await createApp(runtime, log);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const appPort = (app.getHttpServer().address() as { port: number }).port;

  let n = 0;
  const request = (): autocannon.Request => ({
    method: 'POST',
    setupRequest: (req) => {
      const s = signed[n++ % signed.length];
      return {
        ...req,
        body: s.body,
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'checkouts/update',
          'x-shopify-shop-domain': DOMAIN,
          'x-shopify-api-version': '2025-01',
          'x-shopify-webhook-id': randomUUID(),
          'x-shopify-hmac-sha256': s.hmac,
        },
      };
    },
  });

  // Warm-up both, then measure.
  await autocannon({ url: `http://127.0.0.1:${naivePort}/`, connections: 10, duration: 2, requests: [request()] });
  await autocannon({
    url: `http://127.0.0.1:${appPort}/webhooks/shopify`,
    connections: 10,
    duration: 2,
    requests: [request()],
  });
  await basePool.query('TRUNCATE naive_deliveries');
  const storedBefore = await countDeliveries(basePool);

  const base = await run(`http://127.0.0.1:${naivePort}/`, [request()]);
  const ours = await run(`http://127.0.0.1:${appPort}/webhooks/shopify`, [request()]);
  const stored = (await countDeliveries(basePool)) - storedBefore;

  const rows = [
    ['naive node:http + INSERT', base],
    ['Reclaim /webhooks/shopify', ours],
  ] as const;
  console.log('\n| server | req/s (mean) | p50 ms | p99 ms | 2xx | non-2xx | errors+timeouts |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, r] of rows) {
    console.log(
      `| ${name} | ${Math.round(r.requests.average)} | ${r.latency.p50} | ${r.latency.p99} | ${r['2xx']} | ${r.non2xx} | ${r.errors + r.timeouts} |`,
    );
  }
  console.log(`\nratio Reclaim / naive: ${(ours.requests.average / base.requests.average).toFixed(2)}×`);
  console.log(
    `acknowledged 2xx: ${ours['2xx']}, deliveries stored: ${stored} → ${ours['2xx'] === stored ? 'each stored exactly once' : 'MISMATCH'}`,
  );

  await app.close();
  await runtime.close();
  naive.close();
  await basePool.end();
  await admin.query(`DROP DATABASE ${dbName} WITH (FORCE)`);
  await admin.end();
  if (stopEmbedded) await stopEmbedded();
  await rm(dataDir, { recursive: true, force: true });
}

async function countDeliveries(pool: Pool): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM event_store.events WHERE stream_id LIKE 'delivery-shopify-%'`,
  );
  return rows[0].n;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
