import { startStoreSandbox, type StoreSandbox } from './store-sandbox';

describe('store stand-ins: order creation', () => {
  let sandbox: StoreSandbox;
  const post = async (url: string, headers: Record<string, string>, body: unknown) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> };
  };

  beforeEach(async () => {
    sandbox = await startStoreSandbox({ now: () => new Date('2030-01-01T12:00:00.000Z') });
  });
  afterEach(() => sandbox.stop());

  describe('Shopify POST /orders.json', () => {
    const url = () => `${sandbox.urls.shopify}/orders.json`;
    const auth = () => ({ 'x-shopify-access-token': sandbox.credentials.shopify });
    const order = (quantity: number, code?: string) => ({
      order: {
        email: 'ann@example.com',
        line_items: [{ variant_id: 808950811, quantity }],
        discount_codes: code !== undefined ? [{ code, amount: '2.45', type: 'fixed_amount' }] : [],
      },
    });
    const addCode = (code: string) =>
      sandbox.state.shopify.discounts.set(code.toUpperCase(), {
        id: 'gid://shopify/DiscountCodeNode/1',
        code,
        title: code,
        input: { usageLimit: 1, customerGets: { value: { percentage: 0.1 } } },
        usageCount: 0,
      });

    it('creates an order, takes stock and redeems the code', async () => {
      addCode('SAVE10');
      const res = await post(url(), auth(), order(2, 'SAVE10'));
      expect(res.status).toBe(201);
      const created = res.body['order'] as Record<string, unknown>;
      expect(created).toMatchObject({
        email: 'ann@example.com',
        subtotal_price: '49.00',
        total_discounts: '2.45',
        total_price: '46.55',
        discount_codes: [{ code: 'SAVE10', amount: '2.45' }],
        line_items: [{ variant_id: 808950811, quantity: 2 }],
      });
      expect(typeof created['id']).toBe('number');
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(1);
      expect(sandbox.state.shopify.discounts.get('SAVE10')?.usageCount).toBe(1);
      expect(sandbox.received({ platform: 'shopify', path: '/orders.json' })).toMatchObject([
        { method: 'POST', status: 201, authorized: true },
      ]);
    });

    it('refuses a reused or unknown code (422) and takes nothing', async () => {
      addCode('ONCE');
      expect((await post(url(), auth(), order(1, 'ONCE'))).status).toBe(201);
      const reused = await post(url(), auth(), order(1, 'once'));
      expect(reused.status).toBe(422);
      expect(JSON.stringify(reused.body)).toMatch(/usage limit/);
      expect((await post(url(), auth(), order(1, 'NOPE'))).status).toBe(422);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(2);
      expect(sandbox.state.shopify.discounts.get('ONCE')?.usageCount).toBe(1);
    });

    it('refuses more than the stock (422)', async () => {
      expect((await post(url(), auth(), order(4))).status).toBe(422);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(3);
      expect((await post(url(), auth(), order(3))).status).toBe(201);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(0);
    });

    it('validates the access token (401) and honours injected faults', async () => {
      const bad = await post(url(), { 'x-shopify-access-token': 'shpat_wrong' }, order(1));
      expect(bad.status).toBe(401);
      expect(sandbox.received({ platform: 'shopify', path: '/orders.json' })[0]).toMatchObject({
        authorized: false,
        status: 401,
        headers: { 'x-shopify-access-token': '[redacted]' },
      });
      sandbox.fault({ platform: 'shopify', path: '/orders.json', kind: 'status', status: 503 });
      expect((await post(url(), auth(), order(1))).status).toBe(503);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(3);
    });
  });

  describe('BigCommerce POST /v2/orders', () => {
    const url = () => `${sandbox.urls.bigcommerce}/v2/orders`;
    const auth = () => ({ 'x-auth-token': sandbox.credentials.bigcommerce });
    const order = (quantity: number, code?: string) => ({
      customer_id: 7,
      cart_id: 'cart-1',
      billing_address: { first_name: 'Ann', last_name: 'Lee', email: 'ann@example.com' },
      products: [{ product_id: 632910393, variant_id: 808950811, quantity }],
      ...(code !== undefined ? { coupon_code: code } : {}),
    });
    const addCoupon = (code: string) =>
      sandbox.state.bigcommerce.coupons.set(code.toLowerCase(), {
        id: 1,
        code,
        type: 'percentage_discount',
        amount: '10.0000',
        enabled: true,
        expires: '',
        num_uses: 0,
        max_uses: 1,
      });

    it('creates an order, takes stock, redeems the coupon and serves it back', async () => {
      addCoupon('SAVE10');
      const res = await post(url(), auth(), order(2, 'SAVE10'));
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        customer_id: 7,
        cart_id: 'cart-1',
        subtotal_ex_tax: '49.0000',
        discount_amount: '4.9000',
        total_inc_tax: '44.1000',
        billing_address: { email: 'ann@example.com' },
      });
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(1);
      expect(sandbox.state.bigcommerce.coupons.get('save10')?.['num_uses']).toBe(1);
      const back = await fetch(`${url()}/${String(res.body['id'])}/products`, { headers: auth() });
      expect(await back.json()).toMatchObject([{ product_id: 632910393, variant_id: 808950811, quantity: 2 }]);
      expect(sandbox.received({ platform: 'bigcommerce', path: '/v2/orders', method: 'POST' })).toMatchObject([
        { status: 201, authorized: true },
      ]);
    });

    it('refuses a reused or unknown coupon (422) and takes nothing', async () => {
      addCoupon('ONCE');
      expect((await post(url(), auth(), order(1, 'ONCE'))).status).toBe(201);
      expect((await post(url(), auth(), order(1, 'once'))).status).toBe(422);
      expect((await post(url(), auth(), order(1, 'NOPE'))).status).toBe(422);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(2);
      expect(sandbox.state.bigcommerce.coupons.get('once')?.['num_uses']).toBe(1);
    });

    it('refuses more than the stock (422) and a missing billing address (400)', async () => {
      expect((await post(url(), auth(), order(4))).status).toBe(422);
      const { billing_address: _drop, ...noBilling } = order(1);
      expect((await post(url(), auth(), noBilling)).status).toBe(400);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(3);
    });

    it('validates the token (401) and honours injected faults', async () => {
      expect((await post(url(), { 'x-auth-token': 'wrong' }, order(1))).status).toBe(401);
      sandbox.fault({ platform: 'bigcommerce', path: '/v2/orders', method: 'POST', kind: 'status', status: 500 });
      expect((await post(url(), auth(), order(1))).status).toBe(500);
      expect(sandbox.catalogue.get({ productId: '632910393', variantId: '808950811' })?.stock).toBe(3);
      expect(sandbox.received({ platform: 'bigcommerce', path: '/v2/orders' }).map((r) => r.status)).toEqual([
        401, 500,
      ]);
    });
  });
});
