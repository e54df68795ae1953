import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { Random } from '../apps/sandbox/src/simulator/random';
import { shopifyDelivery, type WebhookShop } from '../apps/sandbox/src/simulator/webhooks';
import { Appliance, freePort } from './chaos/chaos';

const ADMIN_TOKEN = 'partitions-admin-token-0123456789';
const CARTS = 120;
const PARTITIONS = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms / 1000} s`);
    await sleep(250);
  }
}

/** A metric of one instance, summed over its series (the label filter as in the exposition). */
async function metric(app: Appliance, name: string, labels = ''): Promise<number> {
  const text = await fetch(`${app.url}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    signal: AbortSignal.timeout(5_000),
  })
    .then((r) => r.text())
    .catch(() => '');
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(labels)) sum += Number(line.split(' ').pop());
  return sum;
}

/**
 * Two appliance processes with the engine role on one database (ENGINE_PARTITIONS=4): they split
 * the partitions, a burst of checkouts is worked on by both, no timer or message is doubled, and
 * when one is killed the other takes its partitions over and finishes the work.
 */
describe('partitioned engine: two instances (ROLES) share the work', () => {
  let db: TestDatabase;
  let dataDir: string;
  const apps: Appliance[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_partitions');
    dataDir = await mkdtemp(join(tmpdir(), 'reclaim-partitions-'));
  });

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.kill().catch(() => undefined)));
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('splits the partitions, never doubles a timer or a send, and survives a kill', async () => {
    const common: Record<string, string> = {
      DATABASE_URL: db.url,
      ADMIN_TOKEN,
      ANALYST_TOKEN: 'partitions-analyst-token-0123456789',
      RECLAIM_MASTER_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'warn',
      STORE_ADAPTERS: 'off',
      // The dead instance's partitions move at once; a timer it had claimed is free when its
      // connection drops, an effect request it had claimed when its lease ends (late, never lost,
      // R4): a short lease here, since on a loaded machine timers may already be due at the kill.
      ABANDON_AFTER: '20s',
      EFFECT_LEASE: '5s',
      FOLLOW_UP_DELAYS: '3s',
      TIMER_TICK: '250ms',
      HOLDOUT_PERCENT: '0',
      MERCHANT_POSTAL_ADDRESS: '1 Partition Way, Springfield',
      ENGINE_PARTITIONS: String(PARTITIONS),
      KAFKA_BROKERS: '',
    };
    const portA = await freePort();
    const a = new Appliance(
      { ...common, PORT: String(portA), DATA_DIR: join(dataDir, 'a'), ROLES: 'ingest,engine,projector' },
      portA,
    );
    apps.push(a);
    await a.start();
    const portB = await freePort();
    const b = new Appliance({ ...common, PORT: String(portB), DATA_DIR: join(dataDir, 'b'), ROLES: 'engine' }, portB);
    apps.push(b);
    await b.start();

    // The first instance hands half of its partitions to the second.
    const owned = async (app: Appliance) =>
      metric(app, 'reclaim_engine_partitions_owned', 'subscription="engine.recovery-feed"');
    await until('two partitions each', async () => (await owned(a)) === 2 && (await owned(b)) === 2, 30_000);

    const shop: WebhookShop = { platform: 'shopify', domain: 'split.myshopify.com', secret: 'split-secret-0123456789' };
    const created = await fetch(`${a.url}/api/shops`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({
        registerWebhooks: false,
        platform: 'shopify',
        shopDomain: shop.domain,
        webhookSecret: shop.secret,
        apiUrl: `https://${shop.domain}/admin/api/2025-10/graphql.json`,
        apiToken: 'shpat_split',
        currency: 'USD',
        timezone: 'UTC',
      }),
    });
    expect(created.status).toBe(201);

    // The burst: one abandoned checkout per cart, acknowledged by the first instance.
    const random = new Random(11);
    const deliveries = Array.from({ length: CARTS }, (_, n) => {
      const token = random.hex(32);
      const email = `split${n}@partitions.example`;
      const at = new Date().toISOString();
      return shopifyDelivery(
        shop,
        'checkouts/create',
        {
          id: 910000000 + n,
          token: `ck-${token}`,
          cart_token: token,
          email,
          phone: null,
          buyer_accepts_marketing: true,
          created_at: at,
          updated_at: at,
          completed_at: null,
          currency: 'USD',
          presentment_currency: 'USD',
          subtotal_price: '59.00',
          total_price: '59.00',
          total_tax: '0.00',
          abandoned_checkout_url: `https://${shop.domain}/checkout/${token}`,
          line_items: [{ key: 'l1', product_id: 1, variant_id: 11, title: 'Mug', quantity: 1, price: '59.00' }],
          customer: { id: 710000 + n, email, first_name: 'Split', last_name: `Shopper ${n}` },
        },
        random,
      );
    });
    let next = 0;
    const worker = async () => {
      while (next < deliveries.length) {
        const d = deliveries[next++];
        const res = await fetch(`${a.url}${d.path}`, { method: 'POST', headers: d.headers, body: d.body });
        expect(res.status).toBeLessThan(300);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));

    const pg = new Client({ connectionString: db.url });
    await pg.connect();
    // Both instances apply events of the burst; then the second is killed mid-way.
    const applied = (app: Appliance) => metric(app, 'reclaim_engine_events_total');
    await until('both instances applied events', async () => (await applied(a)) > 0 && (await applied(b)) > 0, 60_000);
    const byB = await applied(b);
    await b.kill();
    const firstSends = async () =>
      (
        await pg.query<{ n: number }>(
          `SELECT count(DISTINCT stream_id)::int AS n FROM event_store.events
            WHERE type = 'recovery.message-sent' AND (data->>'step')::int = 0`,
        )
      ).rows[0].n;
    // Killed with work left: the carts are abandoned (and their first message sent) only later.
    expect(await firstSends()).toBeLessThan(CARTS);
    await until('the survivor runs every partition', async () => (await owned(a)) === PARTITIONS, 30_000);

    try {
      // Every cart abandoned and its first message sent (each step's timer fired once).
      const diagnose = async () => {
        const { rows } = await pg.query<{ type: string; n: number }>(
          `SELECT type, count(*)::int AS n FROM event_store.events GROUP BY type ORDER BY type`,
        );
        const effects = await pg
          .query(`SELECT kind, done_at IS NULL AS open, count(*)::int FROM engine.effect_queue GROUP BY 1, 2`)
          .catch((e) => ({ rows: [String(e)] }));
        const failed = await pg.query(
          `SELECT data FROM event_store.events WHERE type = 'recovery.message-failed' LIMIT 2`,
        );
        return `${JSON.stringify(rows)} failed ${JSON.stringify(failed.rows)} effects ${JSON.stringify(effects.rows)} a: ${a.tail()}`;
      };
      await until('every cart got its first message', async () => (await firstSends()) === CARTS, 120_000).catch(
        async (err) => {
          throw new Error(`${(err as Error).message}: ${await diagnose()}`);
        },
      );
      await sleep(1_000);
      const { rows } = await pg.query<{ timers: number; timer_dups: number; sends: number; send_dups: number }>(
        `SELECT
           (SELECT count(*)::int FROM engine.timers) AS timers,
           (SELECT count(*)::int FROM (SELECT 1 FROM event_store.events WHERE type = 'recovery.timer-scheduled'
              GROUP BY stream_id, data->>'purpose', data->>'step' HAVING count(*) > 1) x) AS timer_dups,
           (SELECT count(*)::int FROM event_store.events WHERE type = 'recovery.message-sent') AS sends,
           (SELECT count(*)::int FROM (SELECT 1 FROM event_store.events WHERE type = 'recovery.message-sent'
              GROUP BY stream_id, data->>'step', data->>'channel' HAVING count(*) > 1) x) AS send_dups`,
      );
      expect(rows[0].timers).toBeGreaterThanOrEqual(CARTS);
      expect(rows[0].timer_dups).toBe(0);
      expect(rows[0].sends).toBeGreaterThanOrEqual(CARTS);
      expect(rows[0].send_dups).toBe(0);
      // Both did part of the work.
      expect(byB).toBeGreaterThan(0);
      expect(await applied(a)).toBeGreaterThan(0);
      const layout = await pg.query<{ partitions: number }>(
        `SELECT partitions FROM event_store.subscription_partitions WHERE name = 'engine.recovery-feed'`,
      );
      expect(layout.rows[0].partitions).toBe(PARTITIONS);
    } finally {
      await pg.end();
    }
  }, 300_000);
});
