import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DeliveryProcessor } from '@reclaim/application';
import type { SealedValue } from '@reclaim/domain';
import { platformAdapters } from '@reclaim/platforms';
import { READ_MODEL_PROJECTIONS, rebuildProjection } from '@reclaim/read-models';
import { toOutboundMessage } from '@reclaim/kafka';
import { historyOf } from '../apps/reclaim/src/http/customers.controller';
import { eventually, hmacBase64, post, registerShop, startHarness, type Harness } from './support/harness';
import { shopifyCheckout, shopifyRedact } from './support/payloads';

const SECRET = 'shpss_comeback_secret';
const DOMAIN = 'lamps.myshopify.com';

/**
 * The script (keys with identity): a customer is redacted, shops again from the same
 * e-mail (a new key is created for the same customer key), then the log is replayed and every
 * read model rebuilt. What was sealed under the shredded key reads as erased everywhere — the
 * delivery processor, the projections, the customer history, the Kafka mapping — and nothing
 * raises "tampered" or stalls.
 */
describe('customers/redact, then the same customer shops again (keys with identity)', () => {
  let h: Harness;
  let db: Client;
  let shopId: string;

  beforeAll(async () => {
    // No projector role: the test rebuilds the read models itself (a rebuild takes the projection over).
    h = await startHarness({ ROLES: 'ingest,engine' });
    db = new Client({ connectionString: h.db.url });
    await db.connect();
    shopId = (await registerShop(h, { platform: 'shopify', shopDomain: DOMAIN, webhookSecret: SECRET })).id;
  });

  afterAll(async () => {
    await db?.end();
    await h?.close();
  });

  const send = (topic: string, body: string) =>
    post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });

  async function contactOf(cartId: string): Promise<SealedValue | undefined> {
    const { rows } = await db.query<{ data: { contact?: SealedValue } }>(
      `SELECT data FROM event_store.events WHERE type = 'cart.activity-recorded' AND data->>'cartId' = $1 ORDER BY global_position DESC LIMIT 1`,
      [cartId],
    );
    return rows[0]?.data.contact;
  }

  it('reads the shredded data as erased in replay, rebuild, history and relay, and keeps the new data', async () => {
    const first = shopifyCheckout({ token: 'tok-before', updatedAt: '2026-11-20T10:05:00-05:00' });
    expect((await send('checkouts/update', first)).status).toBe(200);
    const before = await eventually(() => contactOf('cart-tok-before'));
    expect(await h.runtime.vault.open(shopId, before)).not.toBeNull();

    expect((await send('customers/redact', shopifyRedact())).status).toBe(200);
    await eventually(async () => (await h.runtime.vault.open(shopId, before)) === null);

    // The same customer comes back: a new key for the same customer key.
    const again = shopifyCheckout({ token: 'tok-after', updatedAt: '2026-11-21T10:05:00-05:00' });
    expect((await send('checkouts/update', again)).status).toBe(200);
    const after = await eventually(() => contactOf('cart-tok-after'));
    expect(after.subject).toBe(before.subject);
    expect(after.key).not.toBe(before.key);
    expect(await h.runtime.vault.open(shopId, after)).not.toBeNull();
    expect(await h.runtime.vault.open(shopId, before)).toBeNull();

    // The delivery processor keeps flowing: a later delivery is applied.
    const later = shopifyCheckout({
      token: 'tok-later',
      email: 'grace@example.com',
      updatedAt: '2026-11-22T10:05:00-05:00',
    });
    expect((await send('checkouts/update', later)).status).toBe(200);
    await eventually(() => contactOf('cart-tok-later'));

    // Replay every stored delivery through a fresh processor: the shredded ones are skipped, none throws.
    const processor = new DeliveryProcessor({
      store: h.runtime.store,
      shops: h.runtime.shops,
      vault: h.runtime.vault,
      adapters: platformAdapters,
    });
    const deliveries = await h.runtime.store.readAll({ filter: { typePrefixes: ['webhook.received'] } });
    expect(deliveries.length).toBeGreaterThanOrEqual(4);
    const tx = await h.runtime.pool.connect();
    try {
      await expect(processor.handle(deliveries, tx)).resolves.toBeUndefined();
    } finally {
      tx.release();
    }

    // Rebuild every read model from the log: no "tampered" anywhere.
    for (const p of READ_MODEL_PROJECTIONS) {
      await expect(
        rebuildProjection(p, { store: h.runtime.store, pool: h.runtime.pool, vault: h.runtime.vault }),
      ).resolves.toBeDefined();
    }

    // The customer history reads (the same customer key) and the Kafka mapping keeps the ciphertext with its key id.
    const history = await historyOf(h.runtime, shopId, after.subject);
    expect(history.customerKey).toBe(after.subject);
    const events = await h.runtime.store.readAll({ filter: { typePrefixes: ['cart.activity-recorded'] } });
    for (const e of events) expect(() => toOutboundMessage(e)).not.toThrow();
    const relayed = events.map(
      (e) => JSON.parse(toOutboundMessage(e).message.value) as { data: { contact?: SealedValue } },
    );
    expect(relayed.some((m) => m.data.contact?.key === after.key)).toBe(true);
  });
});
