/**
 * The delivery processor's batch path: each shop looked up once per batch, the carts read in one
 * go, the same events as one by one, and a redaction in the batch still shredding what follows it.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { PostgresEventStore, type RecordedEvent } from '@reclaim/event-store';
import { platformAdapters } from '@reclaim/platforms';
import { PersonalDataVault } from '@reclaim/privacy';
import { shopifyCheckout, shopifyRedact } from '../../../../test/support/payloads';
import { SecretBox } from '../shops/secret-box';
import { ShopRegistry } from '../shops/shop-registry';
import { DeliveryProcessor } from './process-deliveries';
import { ReceiveWebhook } from './receive-webhook';

const SECRET = 'shpss_batch_secret';

describe('DeliveryProcessor batches', () => {
  let db: TestDatabase;
  let pool: Pool;
  let vault: PersonalDataVault;
  let registry: ShopRegistry;
  const stores: PostgresEventStore[] = [];
  let n = 0;

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_delivery_batch');
    pool = new Pool({ connectionString: db.url, max: 10 });
    await PersonalDataVault.migrate(pool);
    await ShopRegistry.migrate(pool);
    vault = new PersonalDataVault(pool, randomBytes(32));
    registry = new ShopRegistry(pool, new SecretBox(randomBytes(32)));
    for (const domain of ['lamps.myshopify.com', 'mugs.myshopify.com']) {
      await registry.register({
        platform: 'shopify',
        shopDomain: domain,
        webhookSecret: SECRET,
        apiUrl: `https://${domain}/admin/api/2025-10`,
        apiToken: 'x',
        currency: 'USD',
        timezone: 'UTC',
      });
    }
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    await pool?.end();
    await db?.drop();
  });

  async function newStore(schema: string): Promise<PostgresEventStore> {
    await PostgresEventStore.migrate(pool, schema);
    const s = new PostgresEventStore({ pool, schema, notify: false });
    stores.push(s);
    return s;
  }

  async function receive(store: PostgresEventStore, domain: string, topic: string, body: string): Promise<void> {
    const out = await new ReceiveWebhook({ store, shops: registry, vault, adapters: platformAdapters }).receive(
      'shopify',
      {
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          'x-shopify-shop-domain': domain,
          'x-shopify-api-version': '2025-10',
          'x-shopify-webhook-id': `delivery-${++n}`,
          'x-shopify-hmac-sha256': createHmac('sha256', SECRET).update(body).digest('base64'),
        },
        body: Buffer.from(body),
        contentType: 'application/json',
        receivedAt: new Date(),
      },
    );
    expect(out.body).toMatchObject({ status: 'accepted' });
  }

  const checkout = (token: string, minute: number, email: string) =>
    shopifyCheckout({ token, email, updatedAt: `2026-11-20T10:${String(minute).padStart(2, '0')}:00Z` });

  /** The same deliveries (same delivery event ids) in another schema. */
  async function copy(from: PostgresEventStore, to: PostgresEventStore): Promise<void> {
    for (const e of await from.readAll()) {
      const { id, type, schemaVersion, data, metadata } = e;
      await to.append(e.streamId, [{ id, type, schemaVersion, data, metadata }], 'no_stream');
    }
  }

  const carts = async (store: PostgresEventStore) =>
    (await store.readAll({ filter: { typePrefixes: ['cart.'] } })).map((e) => [e.streamId, e.revision, e.id, e.type]);

  it('looks each shop up once, reads the carts in one go, and writes what one by one writes', async () => {
    const batched = await newStore('d_batched');
    const single = await newStore('d_single');
    for (let i = 0; i < 30; i++) {
      await receive(
        batched,
        i % 2 ? 'mugs.myshopify.com' : 'lamps.myshopify.com',
        'checkouts/update',
        checkout(`t${i}`, 1, `s${i}@example.com`),
      );
    }
    // The same cart again, later: its second decision reads the cart afresh (it was written meanwhile).
    await receive(batched, 'lamps.myshopify.com', 'checkouts/update', checkout('t0', 5, 's0@example.com'));
    await copy(batched, single);
    const deliveries = await batched.readAll({ filter: { typePrefixes: ['webhook.received'] } });
    expect(deliveries).toHaveLength(31);

    const gets = jest.spyOn(registry, 'get');
    const reads: string[] = [];
    const readStream = batched.readStream.bind(batched);
    jest.spyOn(batched, 'readStream').mockImplementation((id, o) => (reads.push(id), readStream(id, o)));
    const readStreams = jest.spyOn(batched, 'readStreams');
    try {
      await new DeliveryProcessor({ store: batched, shops: registry, vault, adapters: platformAdapters }).handle(
        deliveries,
        undefined as never,
      );
      expect(gets).toHaveBeenCalledTimes(2);
      expect(readStreams).toHaveBeenCalledTimes(1);
      expect(reads.filter((id) => id.startsWith('cart-'))).toHaveLength(1); // only t0's second decision
    } finally {
      jest.restoreAllMocks();
    }

    const one = new DeliveryProcessor({ store: single, shops: registry, vault, adapters: platformAdapters });
    for (const e of await single.readAll({ filter: { typePrefixes: ['webhook.received'] } })) await one.apply(e);
    const expected = await carts(single);
    expect(expected.length).toBeGreaterThanOrEqual(31);
    expect(await carts(batched)).toEqual(expected);
  });

  it('applies deliveries after a redaction in the batch as one by one (what it shredded stays unread)', async () => {
    const store = await newStore('d_redact');
    await receive(store, 'lamps.myshopify.com', 'checkouts/update', checkout('before', 1, 'ada@example.com'));
    await receive(store, 'lamps.myshopify.com', 'customers/redact', shopifyRedact());
    // Stored before the processor shredded Ada's key: sealed under it, so unreadable once applied in order.
    await receive(store, 'lamps.myshopify.com', 'checkouts/update', checkout('after', 3, 'ada@example.com'));
    await receive(store, 'lamps.myshopify.com', 'checkouts/update', checkout('other', 2, 'bob@example.com'));
    const deliveries: RecordedEvent[] = await store.readAll({ filter: { typePrefixes: ['webhook.received'] } });
    expect(deliveries).toHaveLength(4);
    const processor = new DeliveryProcessor({ store, shops: registry, vault, adapters: platformAdapters });
    await processor.handle(deliveries, undefined as never);
    const types = (await store.readAll()).map((e) => e.type);
    expect(types).toContain('customer.redacted');
    // Ada's later checkout, sealed under the key the redaction shreds, is not applied; the others are.
    const cartStreams = [
      ...new Set((await store.readAll({ filter: { typePrefixes: ['cart.'] } })).map((e) => e.streamId)),
    ];
    expect(cartStreams.map((id) => id.replace(/^.*-cart-/, '')).sort()).toEqual(['before', 'other']);
  });
});
