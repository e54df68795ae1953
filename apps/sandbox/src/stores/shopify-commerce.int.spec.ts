import { PermanentProviderError, ProviderOutcomeUnknownError, RetryableProviderError } from '@reclaim/ports';
import type { RecoveryItem } from '@reclaim/domain';
import { discountCodeFor, PlatformCommerce, ShopifyCommerceAdapter } from '@reclaim/platforms/commerce';
import { adapterOptions, FIXTURES, hasFixtures, readFixture, TestClock, testShop } from './contract-kit';
import { startStoreSandbox, type StoreSandbox } from './store-sandbox';

const item = (lineId: string, variantId: string, quantity = 1, unitPrice = '199.00'): RecoveryItem => ({
  lineId,
  productId: '632910392',
  variantId,
  quantity,
  unitPrice,
});

describe('Shopify Admin GraphQL commerce adapter against the stand-in', () => {
  let sandbox: StoreSandbox;
  let clock: TestClock;
  let adapter: ShopifyCommerceAdapter;
  const shop = () => testShop('shopify', sandbox.urls.shopify, sandbox.credentials.shopify);
  const discount = (key: string, extra: Partial<{ expiresAt: string; customerKey: string }> = {}) => ({
    idempotencyKey: key,
    shop: shop(),
    percent: 10,
    expiresAt: '2030-01-08T12:00:00.000Z',
    cartId: 'c1',
    ...extra,
  });

  beforeEach(async () => {
    clock = new TestClock();
    sandbox = await startStoreSandbox({ now: clock.now });
    adapter = new ShopifyCommerceAdapter(adapterOptions(clock));
  });
  afterEach(() => sandbox.stop());

  it('reads stock and price for every variant in one nodes(ids:) query and creates a single-use code', async () => {
    const lines = await adapter.stock(shop(), [
      item('l1', '808950810'),
      item('l2', '808950811', 5, '24.50'),
      item('l3', '999'),
      { lineId: 'l4', productId: 'custom:1', quantity: 1, unitPrice: '1.00' },
    ]);
    expect(lines).toEqual([
      { lineId: 'l1', available: true, currentUnitPrice: '199.00' },
      { lineId: 'l2', available: false, currentUnitPrice: '24.50' }, // 3 left, 5 wanted
      { lineId: 'l3', available: false }, // no such variant
    ]);
    const queries = sandbox.received({ platform: 'shopify', operation: 'ReclaimVariantStock' });
    expect(queries).toHaveLength(1);
    expect(queries[0]?.headers['x-shopify-access-token']).toBe('[redacted]');

    const { code } = await adapter.createDiscountCode(
      discount('recovery-a:step-1:email:discount', { customerKey: 'p-7' }),
    );
    expect(code).toBe(discountCodeFor('recovery-a:step-1:email:discount'));
    expect(code).toMatch(/^RECLAIM-[A-Z2-7]{16}$/);
    const created = sandbox.state.shopify.discounts.get(code);
    expect(created?.input).toMatchObject({
      code,
      usageLimit: 1,
      appliesOncePerCustomer: true,
      endsAt: '2030-01-08T12:00:00.000Z',
      customerGets: { value: { percentage: 0.1 }, items: { all: true } },
      context: { customers: { add: ['gid://shopify/Customer/7'] } },
    });
  });

  it('uses customerSelection before API version 2025-10 and all buyers without a platform customer id', async () => {
    const old = { ...shop(), apiUrl: sandbox.urls.shopify.replace('2025-10', '2025-01') };
    const { code } = await adapter.createDiscountCode({ ...discount('k-old', { customerKey: 'e-abc' }), shop: old });
    expect(sandbox.state.shopify.discounts.get(code)?.input['customerSelection']).toEqual({ all: true });
  });

  it('refuses a wrong access token as a permanent auth error', async () => {
    const bad = { ...shop(), apiToken: 'shpat_wrong' };
    await expect(adapter.stock(bad, [item('l1', '808950810')])).rejects.toMatchObject({
      name: 'PermanentProviderError',
      code: 'auth-401',
    });
  });

  it('maps userErrors to PermanentProviderError (an end date in the past)', async () => {
    const err = await adapter
      .createDiscountCode(discount('k-past', { expiresAt: '2029-12-31T00:00:00Z' }))
      .catch((e) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.code).toBe('INVALID');
    expect(sandbox.state.shopify.discounts.size).toBe(0);
  });

  it('honours 429 Retry-After with the injected sleep', async () => {
    sandbox.fault({ platform: 'shopify', kind: 'status', status: 429, retryAfter: 2, body: { errors: 'Throttled' } });
    const lines = await adapter.stock(shop(), [item('l1', '808950810')]);
    expect(lines[0]?.available).toBe(true);
    expect(clock.sleeps).toEqual([2000]);
  });

  it('waits out a THROTTLED answer for the missing query cost at the restore rate', async () => {
    await sandbox.stop();
    sandbox = await startStoreSandbox({ now: clock.now, shopify: { maximumAvailable: 5, restoreRate: 1 } });
    const items = Array.from({ length: 6 }, (_, i) => item(`l${i}`, String(808950810 + (i % 2))));
    await adapter.stock(shop(), items); // cost 3 (two distinct ids): 2 points left
    const lines = await adapter.stock(shop(), items.slice(0, 1)); // cost 2: fine
    expect(lines).toHaveLength(1);
    const third = await adapter.stock(shop(), items); // cost 3 with 0 left: throttled, wait 3 s
    expect(third).toHaveLength(6);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('retries 5xx and gives up with RetryableProviderError once the budget is spent', async () => {
    sandbox.fault({ platform: 'shopify', kind: 'status', status: 503, times: 2 });
    await expect(adapter.stock(shop(), [item('l1', '808950810')])).resolves.toHaveLength(1);
    expect(clock.sleeps).toEqual([100, 200]);

    sandbox.fault({ platform: 'shopify', kind: 'status', status: 502, retryAfter: 120 });
    const err = await adapter.stock(shop(), [item('l1', '808950810')]).catch((e) => e);
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.retryAfterMs).toBe(120_000);
  });

  it('a create that times out is ProviderOutcomeUnknownError; the retry finds the code instead of creating another', async () => {
    sandbox.fault({ platform: 'shopify', operation: 'ReclaimDiscountCreate', kind: 'hang', when: 'after' });
    const key = 'recovery-b:step-2:email:discount';
    await expect(adapter.createDiscountCode(discount(key))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    expect(sandbox.state.shopify.discounts.size).toBe(1); // the store did create it

    const again = await adapter.createDiscountCode(discount(key));
    expect(again.code).toBe(discountCodeFor(key));
    expect(sandbox.state.shopify.discounts.size).toBe(1);
    expect(sandbox.received({ operation: 'ReclaimDiscountCreate' })).toHaveLength(1);
  });

  it('never creates a second code for one key, even when the lookup missed it (TAKEN → ours)', async () => {
    const key = 'recovery-c:step-1:email:discount';
    const first = await adapter.createDiscountCode(discount(key));
    sandbox.fault({
      platform: 'shopify',
      operation: 'ReclaimDiscountByCode',
      kind: 'status',
      status: 200,
      body: { data: { codeDiscountNodeByCode: null } },
    });
    const second = await adapter.createDiscountCode(discount(key));
    expect(second).toEqual(first);
    expect(sandbox.state.shopify.discounts.size).toBe(1);
    const other = await adapter.createDiscountCode(discount('recovery-c:step-2:email:discount'));
    expect(other.code).not.toBe(first.code);
    expect(sandbox.state.shopify.discounts.size).toBe(2);
  });

  it('reports out-of-stock and changed prices', async () => {
    sandbox.setStock({ productId: '632910392', variantId: '808950810' }, 0);
    sandbox.setPrice({ productId: '632910393', variantId: '808950811' }, '30.00', '27.90');
    const lines = await adapter.stock(shop(), [item('l1', '808950810'), item('l2', '808950811', 1, '24.50')]);
    expect(lines).toEqual([
      { lineId: 'l1', available: false, currentUnitPrice: '199.00' },
      { lineId: 'l2', available: true, currentUnitPrice: '27.90' },
    ]);
  });

  it('is chosen by the platform registry', async () => {
    const commerce = new PlatformCommerce(adapterOptions(clock));
    await expect(commerce.stock(shop(), [item('l1', '808950810')])).resolves.toHaveLength(1);
    await expect(commerce.stock({ ...shop(), platform: 'magento' }, [item('l1', '808950810')])).resolves.toEqual([]);
    await expect(
      commerce.createDiscountCode({ ...discount('k'), shop: { ...shop(), platform: 'magento' } }),
    ).rejects.toMatchObject({ name: 'DiscountUnavailableError' });
  });
});

const describeIfFixtures: (name: string, body: () => void) => void = hasFixtures
  ? describe
  : (name, body) => describe.skip(`${name} [skipped: ${FIXTURES} not found]`, body);
if (!hasFixtures) console.warn(`[store sandbox] Shopify fixture checks skipped: ${FIXTURES} does not exist`);

describeIfFixtures('Shopify stand-in and the documented variant fixture', () => {
  it('serves the fixture variant (price, inventory) through GraphQL as the adapter reads it', async () => {
    const v = (readFixture('shopify/admin_rest/variant.json') as { variant: Record<string, unknown> }).variant;
    const clock = new TestClock();
    const sandbox = await startStoreSandbox({
      now: clock.now,
      catalogue: [
        {
          productId: '632910392',
          variantId: String(v['id']),
          price: String(v['price']),
          stock: Number(v['inventory_quantity']),
          continueSelling: v['inventory_policy'] === 'continue',
        },
      ],
    });
    try {
      const adapter = new ShopifyCommerceAdapter(adapterOptions(clock));
      const lines = await adapter.stock(testShop('shopify', sandbox.urls.shopify, sandbox.credentials.shopify), [
        item('l1', String(v['id']), Number(v['inventory_quantity']) + 1),
      ]);
      // inventory_policy "continue": sold beyond the stock level.
      expect(lines).toEqual([{ lineId: 'l1', available: true, currentUnitPrice: String(v['price']) }]);
    } finally {
      await sandbox.stop();
    }
  });
});
