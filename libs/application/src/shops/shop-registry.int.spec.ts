/**
 * The webhook hot path's shop look-up: one read per shop however many deliveries miss the cache at
 * once, and a change made while a read runs is never overwritten by what that read saw.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { SecretBox } from './secret-box';
import { ShopRegistry } from './shop-registry';

describe('ShopRegistry look-ups by domain', () => {
  let db: TestDatabase;
  let pool: Pool;
  const box = new SecretBox(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_shop_registry');
    pool = new Pool({ connectionString: db.url, max: 4 });
    await ShopRegistry.migrate(pool);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });

  const register = (registry: ShopRegistry, domain: string, secret: string) =>
    registry.register({
      platform: 'shopify',
      shopDomain: domain,
      webhookSecret: secret,
      apiUrl: `https://${domain}/admin/api/2025-10`,
      apiToken: 'x',
      currency: 'USD',
      timezone: 'UTC',
    });

  it('shares one read among the deliveries that miss the cache together', async () => {
    await register(new ShopRegistry(pool, box), 'lamps.myshopify.com', 'secret-1');
    const registry = new ShopRegistry(pool, box);
    const spy = jest.spyOn(pool, 'query');
    const found = await Promise.all(
      Array.from({ length: 50 }, () => registry.findByDomain('shopify', 'lamps.myshopify.com')),
    );
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(new Set(found.map((s) => s?.id)).size).toBe(1);
    expect(found[0]?.webhookSecrets(new Date())).toEqual(['secret-1']);
    // An unknown shop is looked up once too, and answers null to all.
    const unknown = await Promise.all(
      Array.from({ length: 10 }, () => registry.findByDomain('shopify', 'nobody.myshopify.com')),
    );
    expect(unknown).toEqual(Array.from({ length: 10 }, () => null));
  });

  it('does not cache what a read saw when the shop changed while it ran', async () => {
    const registry = new ShopRegistry(pool, box);
    const { shop } = await register(registry, 'mugs.myshopify.com', 'old-secret');
    // A look-up in flight (its answer held back) while the secret is rotated in this process.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
    const spy = jest.spyOn(pool, 'query').mockImplementationOnce(((...args: unknown[]) =>
      query(...args).then(async (r) => {
        await held;
        return r;
      })) as never);
    const inFlight = registry.findByDomain('shopify', 'mugs.myshopify.com');
    spy.mockRestore();
    await registry.rotateWebhookSecret(shop.id, 'new-secret', 0);
    release();
    expect((await inFlight)?.webhookSecrets(new Date())).toEqual(['old-secret']); // what it read
    // The next look-up reads again and sees the rotation (the stale answer was not cached).
    const after = await registry.findByDomain('shopify', 'mugs.myshopify.com');
    expect(after?.webhookSecrets(new Date(Date.now() + 1000))).toEqual(['new-secret']);
  });
});
