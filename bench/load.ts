/**
 * npm run bench:load [-- --seconds 20 --connections 64 --outage 10]
 *
 * R30 and R31 as a benchmark (figures, not assertions), loopback only, bounded in time:
 *   R30: signed Shopify checkout deliveries (one hot shop with half the traffic + 100 others, 10 %
 *        duplicates, 5 % out of order) from closed-loop connections for `--seconds`: the highest
 *        rate this machine sustains; acknowledgement p50/p99, 5xx count, then the time until every
 *        projection has caught up.
 *   R31: PostgreSQL cut off for `--outage` seconds (a 30-minute outage compressed) while live
 *        traffic continues; what was refused is the senders' retry backlog, re-sent once it is back,
 *        on top of the live traffic: drain time, 5xx outside the outage, catch-up time.
 * The appliance runs as a child process on DATABASE_URL (its own database) or an embedded PostgreSQL.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '@reclaim/database';
import { Appliance, DatabaseProxy, freePort } from '../test/chaos/chaos';

const ADMIN_TOKEN = 'load-admin-token-0123456789';
const SHOPS = 101;

interface Shop {
  readonly domain: string;
  readonly secret: string;
}

interface Delivery {
  readonly body: string;
  readonly headers: Record<string, string>;
}

function delivery(shop: Shop, n: number, topic: 'checkouts/create' | 'checkouts/update'): Delivery {
  const at = new Date(Date.now() - 60_000 + (topic === 'checkouts/update' ? 1000 : 0)).toISOString();
  const body = JSON.stringify({
    id: 900000000 + n,
    token: `ck-load-${n}`,
    cart_token: `load-${n}`,
    email: `load${n}@example.com`,
    buyer_accepts_marketing: true,
    created_at: at,
    updated_at: at,
    completed_at: null,
    currency: 'USD',
    subtotal_price: '49.00',
    total_price: '49.00',
    total_tax: '0.00',
    line_items: [{ key: 'l1', product_id: 1, variant_id: 2, sku: 'S', title: 'Sock', quantity: 1, price: '49.00' }],
    customer: { id: 500000 + n, email: `load${n}@example.com`, first_name: 'Load', last_name: String(n) },
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': shop.domain,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': createHmac('sha256', shop.secret).update(body).digest('base64'),
    },
  };
}

/** An endless stream: hot shop half the traffic, 10 % duplicates, 5 % swapped with the next one. */
function* traffic(shops: readonly Shop[]): Generator<Delivery> {
  let n = 0;
  const recent: Delivery[] = [];
  let held: Delivery | undefined;
  for (;;) {
    let d: Delivery;
    if (recent.length > 0 && Math.random() < 0.1) d = recent[Math.floor(Math.random() * recent.length)];
    else {
      n++;
      const shop = Math.random() < 0.5 ? shops[0] : shops[1 + Math.floor(Math.random() * (shops.length - 1))];
      d = delivery(shop, n, Math.random() < 0.5 ? 'checkouts/create' : 'checkouts/update');
      recent.push(d);
      if (recent.length > 500) recent.shift();
    }
    if (held === undefined && Math.random() < 0.05) {
      held = d; // sent after the next one
      continue;
    }
    yield d;
    if (held !== undefined) {
      yield held;
      held = undefined;
    }
  }
}

interface PhaseStats {
  acked: number;
  fiveXx: number;
  refused: number;
  latencies: number[];
}

const newStats = (): PhaseStats => ({ acked: 0, fiveXx: 0, refused: 0, latencies: [] });

async function post(url: string, d: Delivery, stats: PhaseStats): Promise<number> {
  const t0 = performance.now();
  const status = await fetch(`${url}/webhooks/shopify`, {
    method: 'POST',
    headers: d.headers,
    body: d.body,
    signal: AbortSignal.timeout(10_000),
  })
    .then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    })
    .catch(() => 0);
  stats.latencies.push(performance.now() - t0);
  if (status >= 200 && status < 300) stats.acked++;
  else if (status >= 500) stats.fiveXx++;
  else stats.refused++;
  return status;
}

const acked = (status: number) => status >= 200 && status < 300;

function pct(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function caughtUp(app: Appliance, limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    const h = (await fetch(`${app.url}/health`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.json())
      .catch(() => undefined)) as { subscriptions?: Record<string, { pending: number }> } | undefined;
    const subs = Object.values(h?.subscriptions ?? {});
    if (subs.length > 0 && subs.every((s) => s.pending === 0)) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 250));
  }
  return Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      connections: { type: 'string', default: '64' },
      outage: { type: 'string', default: '10' },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const outageSeconds = Number(values.outage);
  const dataDir = await mkdtemp(join(tmpdir(), 'reclaim-load-'));
  let embedded: EmbeddedPostgresHandle | undefined;
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pg'), port: await freePort() });
    serverUrl = embedded.url;
  }
  const dbName = `reclaim_load_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const server = new URL(serverUrl);
  const proxy = new DatabaseProxy({ host: server.hostname, port: Number(server.port || 5432) });
  await proxy.start();
  const proxied = new URL(serverUrl);
  proxied.pathname = `/${dbName}`;
  proxied.hostname = '127.0.0.1';
  proxied.port = String(proxy.port);
  const port = await freePort();
  const app = new Appliance(
    {
      DATABASE_URL: proxied.toString(),
      PORT: String(port),
      DATA_DIR: join(dataDir, 'data'),
      ADMIN_TOKEN,
      RECLAIM_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'error',
      STORE_ADAPTERS: 'off',
      KAFKA_BROKERS: '',
    },
    port,
  );
  try {
    console.log('starting the appliance…');
    await app.start();
    const shops: Shop[] = [];
    for (let i = 0; i < SHOPS; i++) {
      const shop = { domain: `load-${i}.myshopify.com`, secret: `load-secret-${i}-0123456789` };
      const res = await fetch(`${app.url}/api/shops`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
        body: JSON.stringify({
          platform: 'shopify',
          shopDomain: shop.domain,
          webhookSecret: shop.secret,
          apiUrl: `https://${shop.domain}/admin/api/2025-10/graphql.json`,
          apiToken: `shpat_load_${i}`,
          currency: 'USD',
          timezone: 'UTC',
          registerWebhooks: false,
        }),
      });
      if (res.status !== 201) throw new Error(`shop ${i}: ${res.status} ${await res.text()}`);
      shops.push(shop);
    }
    const stream = traffic(shops);

    // R30: closed loop, as fast as the appliance answers.
    console.log(`R30: ${connections} connections for ${seconds} s…`);
    const r30 = newStats();
    const end30 = Date.now() + seconds * 1000;
    const t30 = Date.now();
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (Date.now() < end30) await post(app.url, stream.next().value as Delivery, r30);
      }),
    );
    const r30Secs = (Date.now() - t30) / 1000;
    const catch30 = await caughtUp(app, 300_000);

    // R31: live traffic at half the sustained rate; an outage; the refused ones re-sent on top.
    const liveRate = Math.max(10, Math.round(r30.acked / r30Secs / 2));
    console.log(`R31: live traffic at ${liveRate}/s, PostgreSQL cut off for ${outageSeconds} s, then the backlog…`);
    const live = newStats();
    const backlogStats = newStats();
    const backlog: Delivery[] = [];
    let outage = false;
    let stop = false;
    let outageFiveXx = 0;
    const liveLoop = (async () => {
      const inFlight = new Set<Promise<void>>();
      while (!stop) {
        const d = stream.next().value;
        const p = (async () => {
          const during = outage;
          const status = await post(app.url, d, live);
          if (!acked(status)) {
            backlog.push(d); // the platform retries it later
            if (status >= 500 && (during || outage)) outageFiveXx++;
          }
        })();
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        await new Promise((r) => setTimeout(r, 1000 / liveRate));
      }
      await Promise.all(inFlight);
    })();
    await new Promise((r) => setTimeout(r, 3_000));
    outage = true;
    proxy.cut();
    await new Promise((r) => setTimeout(r, outageSeconds * 1000));
    proxy.restore();
    outage = false;
    await new Promise((r) => setTimeout(r, 1_000));
    const backlogSize = backlog.length;
    const tDrain = Date.now();
    await Promise.all(
      Array.from({ length: Math.max(4, connections / 4) }, async () => {
        for (let d = backlog.shift(); d !== undefined; d = backlog.shift()) {
          if (!acked(await post(app.url, d, backlogStats))) {
            backlog.push(d);
            await new Promise((r) => setTimeout(r, 200));
          }
        }
      }),
    );
    const drainMs = Date.now() - tDrain;
    stop = true;
    await liveLoop;
    const catch31 = await caughtUp(app, 300_000);

    const row = (k: string, v: string) => console.log(` ${k.padEnd(44)} │ ${v}`);
    console.log('─'.repeat(46) + '┼' + '─'.repeat(40));
    row('R30 achieved rate (acknowledged/s)', (r30.acked / r30Secs).toFixed(0));
    row(
      'R30 acknowledgement p50 / p99',
      `${pct(r30.latencies, 50).toFixed(1)} ms / ${pct(r30.latencies, 99).toFixed(1)} ms`,
    );
    row('R30 5xx / other refusals', `${r30.fiveXx} / ${r30.refused}`);
    row('R30 projections caught up after the peak', `${(catch30 / 1000).toFixed(1)} s`);
    row('R31 outage (compressed) / backlog', `${outageSeconds} s / ${backlogSize} deliveries`);
    row('R31 backlog drained on top of live traffic', `${(drainMs / 1000).toFixed(1)} s`);
    row('R31 live p50 / p99', `${pct(live.latencies, 50).toFixed(1)} ms / ${pct(live.latencies, 99).toFixed(1)} ms`);
    row(
      'R31 5xx during the outage / outside it',
      `${outageFiveXx} / ${live.fiveXx - outageFiveXx + backlogStats.fiveXx}`,
    );
    row('R31 projections caught up after the drain', `${(catch31 / 1000).toFixed(1)} s`);
    console.log('─'.repeat(46) + '┼' + '─'.repeat(40));
  } finally {
    await app.stop().catch(() => undefined);
    proxy.close();
    const c = new Client({ connectionString: serverUrl });
    await c.connect().then(
      () => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => c.end()),
      () => undefined,
    );
    await embedded?.stop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.stack : String(err));
    process.exit(1);
  },
);
