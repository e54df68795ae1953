import { request } from 'undici';
import {
  DiscountUnavailableError,
  PermanentProviderError,
  ProviderOutcomeUnknownError,
  RetryableProviderError,
} from '@reclaim/ports';
import type { RecoveryItem } from '@reclaim/domain';
import { BigCommerceApiClient, mapBigCommerceCart } from '@reclaim/platforms';
import { BigCommerceCommerceAdapter, discountCodeFor } from '@reclaim/platforms/commerce';
import { adapterOptions, FIXTURES, hasFixtures, missingKeys, readFixture, TestClock, testShop } from './contract-kit';
import { startStoreSandbox, type StoreSandbox } from './store-sandbox';

const item = (lineId: string, productId: string, variantId: string | undefined, quantity = 1): RecoveryItem => ({
  lineId,
  productId,
  ...(variantId !== undefined ? { variantId } : {}),
  quantity,
  unitPrice: '1.00',
});

describe('BigCommerce commerce adapter against the stand-in', () => {
  let sandbox: StoreSandbox;
  let clock: TestClock;
  let adapter: BigCommerceCommerceAdapter;
  const shop = () => testShop('bigcommerce', sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce);
  const discount = (key: string, expiresAt = '2030-01-08T12:00:00.000Z') => ({
    idempotencyKey: key,
    shop: shop(),
    percent: 15,
    expiresAt,
    cartId: 'c1',
  });

  beforeEach(async () => {
    clock = new TestClock();
    sandbox = await startStoreSandbox({ now: clock.now });
    adapter = new BigCommerceCommerceAdapter(adapterOptions(clock));
  });
  afterEach(() => sandbox.stop());
  const withoutPromotions = async () => {
    await sandbox.stop();
    sandbox = await startStoreSandbox({ now: clock.now, bigcommerce: { promotions: false } });
  };

  it('reads variants (stock, purchasing, calculated price) in one catalog call', async () => {
    const lines = await adapter.stock(shop(), [
      item('l1', '632910392', '808950810'),
      item('l2', '632910393', '808950811', 4),
      item('l3', '632910393', '1'),
      item('l4', '5', undefined),
    ]);
    expect(lines).toEqual([
      { lineId: 'l1', available: true, currentUnitPrice: '199.00' },
      { lineId: 'l2', available: false, currentUnitPrice: '24.50' },
      { lineId: 'l3', available: false },
      { lineId: 'l4', available: false },
    ]);
    expect(sandbox.received({ platform: 'bigcommerce', path: '/v3/catalog/products' })).toHaveLength(1);
  });

  it('makes a single-use code in a promotion of the promotions engine (v3)', async () => {
    const key = 'recovery-a:step-1:email:discount';
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual({
      code: discountCodeFor(key),
      via: 'v3-promotions',
    });
    const promotions = [...sandbox.state.bigcommerce.promotions.values()];
    expect(promotions).toHaveLength(1);
    expect(promotions[0]).toMatchObject({
      name: 'Reclaim recovery 15% until 2030-01-08',
      redemption_type: 'COUPON',
      status: 'ENABLED',
      end_date: '2030-01-08T23:59:59+00:00',
      rules: [{ action: { cart_value: { discount: { percentage_amount: '15.00' } } } }],
    });
    expect(sandbox.state.bigcommerce.promotionCodes.get(discountCodeFor(key).toLowerCase())).toMatchObject({
      promotionId: promotions[0]?.['id'],
      max_uses: 1,
      max_uses_per_customer: 1,
      current_uses: 0,
    });
    expect(sandbox.state.bigcommerce.coupons.size).toBe(0);
    const calls = sandbox.received({ platform: 'bigcommerce' }).map((r) => `${r.method} ${r.path}`);
    expect(calls).toEqual(['GET /v3/promotions', 'POST /v3/promotions', 'POST /v3/promotions/1/codes']);
  });

  it('reuses the promotion of a level and day (found by name after a restart); another level gets its own', async () => {
    await adapter.createDiscountCode(discount('r1:step-1:email:discount'));
    await adapter.createDiscountCode(discount('r2:step-1:email:discount', '2030-01-08T20:00:00Z'));
    const restarted = new BigCommerceCommerceAdapter(adapterOptions(clock));
    await restarted.createDiscountCode(discount('r3:step-1:email:discount'));
    expect(sandbox.state.bigcommerce.promotions.size).toBe(1);
    expect(sandbox.state.bigcommerce.promotionCodes.size).toBe(3);
    const calls = sandbox.received({ platform: 'bigcommerce' }).map((r) => `${r.method} ${r.path}`);
    expect(calls.filter((c) => c === 'POST /v3/promotions')).toHaveLength(1);
    // The first adapter asked once and remembered the id; the restarted one looked it up by name.
    expect(calls.filter((c) => c === 'GET /v3/promotions')).toHaveLength(2);

    await adapter.createDiscountCode({ ...discount('r4:step-2:email:discount'), percent: 20 });
    expect([...sandbox.state.bigcommerce.promotions.values()].map((p) => p['name'])).toEqual([
      'Reclaim recovery 15% until 2030-01-08',
      'Reclaim recovery 20% until 2030-01-08',
    ]);
  });

  it('a code create whose answer is lost is found again on retry (409 → looked up by code, ours)', async () => {
    const key = 'recovery-p:step-1:email:discount';
    sandbox.fault({
      platform: 'bigcommerce',
      method: 'POST',
      path: '/v3/promotions/1/codes',
      kind: 'hang',
      when: 'after',
    });
    await expect(adapter.createDiscountCode(discount(key))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual({
      code: discountCodeFor(key),
      via: 'v3-promotions',
    });
    expect(sandbox.state.bigcommerce.promotionCodes.size).toBe(1);
    expect(sandbox.received({ method: 'POST', path: '/v3/promotions/1/codes' }).map((r) => r.status)).toContain(409);
  });

  it("a code taken by a promotion that is not Reclaim's is a permanent conflict", async () => {
    const key = 'recovery-q:step-1:email:discount';
    sandbox.state.bigcommerce.promotions.set(7, {
      id: 7,
      name: 'Spring sale',
      redemption_type: 'COUPON',
      status: 'ENABLED',
      rules: [],
    });
    sandbox.state.bigcommerce.promotionCodes.set(discountCodeFor(key).toLowerCase(), {
      id: 1,
      promotionId: 7,
      code: discountCodeFor(key),
      max_uses: 0,
      max_uses_per_customer: 0,
      current_uses: 0,
      created: '2030-01-01T00:00:00+00:00',
    });
    const err = await adapter.createDiscountCode(discount(key)).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.code).toBe('code-conflict');
  });

  it('honours 429 Retry-After on the promotions calls', async () => {
    sandbox.fault({
      platform: 'bigcommerce',
      method: 'POST',
      path: '/v3/promotions',
      kind: 'status',
      status: 429,
      retryAfter: 2,
    });
    sandbox.fault({
      platform: 'bigcommerce',
      method: 'POST',
      path: '/v3/promotions/1/codes',
      kind: 'status',
      status: 429,
      retryAfter: 4,
    });
    const key = 'recovery-r:step-1:email:discount';
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual({
      code: discountCodeFor(key),
      via: 'v3-promotions',
    });
    expect(clock.sleeps).toEqual([2000, 4000]);
    expect(sandbox.state.bigcommerce.promotions.size).toBe(1);
  });

  it('an expiry in the past is refused by the promotions engine (422) and nothing is stored', async () => {
    const err = await adapter.createDiscountCode(discount('k-past-v3', '2029-12-31T00:00:00Z')).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.code).toBe('422');
    expect(sandbox.state.bigcommerce.promotions.size).toBe(0);
    expect(sandbox.state.bigcommerce.promotionCodes.size).toBe(0);
  });

  it('a token without the marketing scope means no code (DiscountUnavailableError)', async () => {
    await sandbox.stop();
    sandbox = await startStoreSandbox({
      now: clock.now,
      bigcommerce: { scopes: ['store_v2_products_read_only', 'store_cart_read_only'] },
    });
    await expect(adapter.createDiscountCode(discount('k-scope'))).rejects.toBeInstanceOf(DiscountUnavailableError);
  });

  it("an order redeems a promotion code once; the promotion's end date expires it", async () => {
    const { code } = await adapter.createDiscountCode(discount('recovery-o:step-1:email:discount'));
    const order = (coupon: string) =>
      request(`${sandbox.urls.bigcommerce}/v2/orders`, {
        method: 'POST',
        headers: { 'x-auth-token': sandbox.credentials.bigcommerce, 'content-type': 'application/json' },
        body: JSON.stringify({
          products: [{ product_id: 632910392, variant_id: 808950810, quantity: 1 }],
          billing_address: { email: 'a@example.com' },
          coupon_code: coupon,
        }),
      }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> }));
    const first = await order(code);
    expect(first.status).toBe(201);
    expect(first.body['discount_amount']).toBe('29.8500');
    expect((await order(code)).status).toBe(422);
  });

  it('refuses a wrong token as a permanent auth error', async () => {
    const err = await adapter
      .stock({ ...shop(), apiToken: 'nope' }, [item('l1', '632910392', '808950810')])
      .catch((e) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.code).toBe('auth-401');
  });

  it('falls back to a v2 coupon when the store has no promotions API, and says so', async () => {
    await withoutPromotions();
    const key = 'recovery-f:step-1:email:discount';
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual({
      code: discountCodeFor(key),
      via: 'v2-coupons',
    });
    expect(sandbox.state.bigcommerce.coupons.get(discountCodeFor(key).toLowerCase())).toMatchObject({
      type: 'percentage_discount',
      amount: '15.0000',
      max_uses: 1,
      max_uses_per_customer: 1,
      expires: 'Tue, 08 Jan 2030 12:00:00 +0000',
    });
    const calls = sandbox.received({ platform: 'bigcommerce' }).map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(calls).toEqual(['GET /v3/promotions 404', 'GET /v2/coupons 204', 'POST /v2/coupons 201']);
  });

  it('maps a validation refusal to PermanentProviderError (v2 fallback)', async () => {
    await withoutPromotions();
    const err = await adapter.createDiscountCode(discount('k-past', '2029-12-31T00:00:00Z')).catch((e) => e);
    expect(err).toBeInstanceOf(PermanentProviderError);
    expect(err.code).toBe('400');
    expect(sandbox.state.bigcommerce.coupons.size).toBe(0);
  });

  it('honours 429 Retry-After, retries 5xx, and stops at the budget', async () => {
    sandbox.fault({ platform: 'bigcommerce', kind: 'status', status: 429, retryAfter: 3 });
    sandbox.fault({ platform: 'bigcommerce', kind: 'status', status: 500 });
    await expect(adapter.stock(shop(), [item('l1', '632910392', '808950810')])).resolves.toHaveLength(1);
    expect(clock.sleeps).toEqual([3000, 200]);

    sandbox.fault({ platform: 'bigcommerce', kind: 'status', status: 503, times: 0 });
    const err = await adapter.stock(shop(), [item('l1', '632910392', '808950810')]).catch((e) => e);
    expect(err).toBeInstanceOf(RetryableProviderError);
    expect(err.code).toBe('503');
  });

  it('waits for the quota window to reset once X-Rate-Limit-Requests-Left reaches 0 (no 429 provoked)', async () => {
    await sandbox.stop();
    sandbox = await startStoreSandbox({ now: clock.now, bigcommerce: { quota: 2, windowMs: 5000 } });
    const items = [item('l1', '632910392', '808950810')];
    await adapter.stock(shop(), items);
    await adapter.stock(shop(), items); // left: 0, reset in 5000 ms
    await adapter.stock(shop(), items);
    expect(clock.sleeps).toEqual([5000]);
    expect(sandbox.received({ platform: 'bigcommerce' }).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  it('a create that times out is ProviderOutcomeUnknownError; the retry finds the coupon (v2 fallback)', async () => {
    await withoutPromotions();
    sandbox.fault({ platform: 'bigcommerce', method: 'POST', path: '/v2/coupons', kind: 'hang', when: 'after' });
    const key = 'recovery-b:step-2:email:discount';
    await expect(adapter.createDiscountCode(discount(key))).rejects.toBeInstanceOf(ProviderOutcomeUnknownError);
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual({
      code: discountCodeFor(key),
      via: 'v2-coupons',
    });
    expect(sandbox.state.bigcommerce.coupons.size).toBe(1);
    expect(sandbox.received({ method: 'POST', path: '/v2/coupons' })).toHaveLength(1);
  });

  it('never creates a second coupon for one key (409 on create → found and ours; v2 fallback)', async () => {
    await withoutPromotions();
    const key = 'recovery-c:step-1:email:discount';
    const first = await adapter.createDiscountCode(discount(key));
    sandbox.fault({
      platform: 'bigcommerce',
      method: 'GET',
      path: '/v2/coupons',
      kind: 'status',
      status: 204,
      body: undefined,
    });
    await expect(adapter.createDiscountCode(discount(key))).resolves.toEqual(first);
    expect(sandbox.state.bigcommerce.coupons.size).toBe(1);
  });

  it('reports out-of-stock, disabled purchasing and changed prices', async () => {
    sandbox.setStock({ productId: '632910392', variantId: '808950810' }, 0);
    sandbox.setPrice({ productId: '632910393', variantId: '808950811' }, '30.00', '26.00');
    const lines = await adapter.stock(shop(), [
      item('l1', '632910392', '808950810'),
      item('l2', '632910393', '808950811'),
    ]);
    expect(lines).toEqual([
      { lineId: 'l1', available: false, currentUnitPrice: '199.00' },
      { lineId: 'l2', available: true, currentUnitPrice: '26.00' },
    ]);
    sandbox.catalogue.setPurchasable({ productId: '632910393', variantId: '808950811' }, false);
    const [l2] = await adapter.stock(shop(), [item('l2', '632910393', '808950811')]);
    expect(l2?.available).toBe(false);
  });
});

const describeIfFixtures: (name: string, body: () => void) => void = hasFixtures
  ? describe
  : (name, body) => describe.skip(`${name} [skipped: ${FIXTURES} not found]`, body);
if (!hasFixtures) console.warn(`[store sandbox] BigCommerce fixture checks skipped: ${FIXTURES} does not exist`);

describeIfFixtures('BigCommerce stand-in answers the documented shapes', () => {
  let sandbox: StoreSandbox;
  beforeEach(async () => {
    sandbox = await startStoreSandbox();
  });
  afterEach(() => sandbox.stop());
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    token = sandbox.credentials.bigcommerce,
  ) => {
    const res = await request(`${sandbox.urls.bigcommerce}${path}`, {
      method,
      headers: { 'x-auth-token': token, 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text === '' ? undefined : JSON.parse(text) };
  };

  it('POST /v2/coupons answers 201 with every field of the documented example', async () => {
    const fixture = readFixture('bigcommerce/coupons_v2_post_201.json') as Record<string, unknown>;
    const res = await call('POST', '/v2/coupons', {
      name: fixture['name'],
      code: fixture['code'],
      type: fixture['type'],
      amount: fixture['amount'],
      applies_to: fixture['applies_to'],
    });
    expect(res.status).toBe(201);
    expect(missingKeys(fixture, res.body)).toEqual([]);
    const dup = await call('POST', '/v2/coupons', { ...res.body, name: 'other', id: undefined });
    expect(dup.status).toBe(409);
  });

  it('POST /v3/promotions/{id}/codes and /codegen answer 201 with every field of the documented examples', async () => {
    const promotion = await call('POST', '/v3/promotions', {
      name: 'Fixture check',
      redemption_type: 'COUPON',
      rules: [{ action: { cart_value: { discount: { percentage_amount: '10' } } } }],
    });
    expect(promotion.status).toBe(201);
    const id = promotion.body.data.id as number;
    const codes = readFixture('bigcommerce/promotions_v3_codes_post_201.json');
    const made = await call('POST', `/v3/promotions/${id}/codes`, {
      code: 'TEST_COUPON',
      max_uses: 10,
      max_uses_per_customer: 5,
    });
    expect(made.status).toBe(201);
    expect(missingKeys(codes, made.body)).toEqual([]);
    expect((await call('POST', `/v3/promotions/${id}/codes`, { code: 'TEST_COUPON' })).status).toBe(409);
    const bad = await call('POST', `/v3/promotions/${id}/codes`, { code: 'no spaces allowed' });
    expect(bad.status).toBe(422);
    expect(Object.keys(bad.body.errors)).toEqual(['code']);
    const gen = readFixture('bigcommerce/promotions_v3_codegen_post_201.json');
    const batch = await call('POST', `/v3/promotions/${id}/codegen`, {
      batch_size: 5,
      max_uses: 10,
      max_uses_per_customer: 5,
    });
    expect(batch.status).toBe(201);
    expect(missingKeys(gen, batch.body)).toEqual([]);
    expect(batch.body.data.codes).toHaveLength(5);
    const dupName = await call('POST', '/v3/promotions', { ...promotion.body.data, id: undefined });
    expect(dupName.status).toBe(409);
    const noRules = await call('POST', '/v3/promotions', { name: 'x', redemption_type: 'COUPON', rules: [] });
    expect(noRules.status).toBe(422);
    expect(Object.keys(noRules.body.errors)).toEqual(['rules']);
  });

  it('an exhausted window answers 429 with Retry-After', async () => {
    await sandbox.stop();
    sandbox = await startStoreSandbox({ bigcommerce: { quota: 1, windowMs: 10_000 } });
    expect((await call('GET', '/v3/promotions')).status).toBe(200);
    const res = await request(`${sandbox.urls.bigcommerce}/v3/promotions`, {
      headers: { 'x-auth-token': sandbox.credentials.bigcommerce },
    });
    await res.body.text();
    expect(res.statusCode).toBe(429);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('v3 errors carry the documented status/title/type/errors shape', async () => {
    const fixture = readFixture('bigcommerce/error_422_example.json');
    const res = await call('GET', '/v3/catalog/products?id:in=abc');
    expect(res.status).toBe(422);
    expect(missingKeys(fixture, res.body).filter((k) => !k.startsWith('$.errors.'))).toEqual([]);
  });

  it('serves a seeded cart that the webhook side fetches and maps', async () => {
    const cart = readFixture('bigcommerce/api_cart_response_example.json') as { data: { id: string } };
    sandbox.seedBigCommerce({ carts: { [cart.data.id]: cart } });
    const client = new BigCommerceApiClient({ sleep: async () => undefined });
    const body = await client.getCart(sandbox.urls.bigcommerce, sandbox.credentials.bigcommerce, cart.data.id);
    const mapped = mapBigCommerceCart(body, { shopCurrency: 'USD', receivedAt: new Date('2030-01-01T00:00:00Z') });
    expect(mapped.cartId).toBe(cart.data.id);
    await expect(client.getCart(sandbox.urls.bigcommerce, 'wrong', cart.data.id)).rejects.toMatchObject({
      name: 'BigCommerceAuthError',
    });
  });
});
