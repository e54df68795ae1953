/**
 * Discounts only where they pay through the real appliance (RFC 0017): a shop with
 * `incentives.policy: learned`, signed Shopify webhooks, the engine's timers and the fake store.
 *
 * - First cart, no evidence yet: every level looks alike, so no discount pays — the learned policy
 *   (exploration 0 %, so deterministic) chooses 0 % at the first discount step, which goes out
 *   without a code: `recovery.incentive-chosen` and `recovery.discount-withheld{no-level-pays}` in
 *   the customer history and in the read models; its purchase settles its outcome.
 * - Then the segment's log says 5 % pays (outcomes appended as the engine records them): the second
 *   cart gets 5 % on every discount step, the level the domain computes on that evidence.
 *
 * - A customer of a shop on the fixed ladder abandons, gets a 5 % code and buys with it, twice: at
 *   the third abandonment's discount step they are a code farmer — `customer.code-farming-detected`
 *   (read.code_farmers) and the step goes out without a code (`discount-withheld{code-farmer}`).
 *
 * Polling only, no timed assertions.
 */
import { randomUUID } from 'node:crypto';
import { incentiveDistribution, DEFAULT_INCENTIVE_SETTINGS } from '@reclaim/domain';
import { FakeCommerce } from '@reclaim/testing/fakes';
import {
  ANALYST_TOKEN,
  api,
  eventually,
  hmacBase64,
  post,
  registerShop,
  startHarness,
  type Harness,
} from './support/harness';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_incentives_learned';
const DOMAIN = 'incentives-learned.myshopify.com';

/** A fixed-offset zone where it is 14:00 now, so quiet hours never hold the steps back. */
function afternoonZone(at: Date): string {
  let offset = 14 - at.getUTCHours();
  if (offset > 14) offset -= 24;
  if (offset < -12) offset += 24;
  return offset === 0 ? 'Etc/GMT' : `Etc/GMT${offset > 0 ? '-' : '+'}${Math.abs(offset)}`;
}

interface HistoryEntry {
  kind: string;
  step?: number;
  reason?: string;
  detail?: string;
  discountCode?: string;
  event: { type: string; [k: string]: unknown };
}

describe('learned discounts through the appliance (webhooks → choice → withheld → read models)', () => {
  let h: Harness;
  let shopId: string;
  const commerce = new FakeCommerce();

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1s',
        FOLLOW_UP_DELAYS: '2s,3s',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        MERCHANT_POSTAL_ADDRESS: '5 Margin Street, Leeds',
        // The code farmer below abandons, gets a code and buys with it three times within a minute.
        PURCHASE_GRACE: '1s',
        DISCOUNT_COOLDOWN: '1s',
        FREQUENCY_CAP: '1s',
      },
      { adapters: { commerce } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-01`,
      apiToken: 'shpat_incentives',
      currency: 'USD',
      timezone: afternoonZone(new Date()),
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      mode: 'live',
      incentives: { policy: 'learned', explorationPercent: 0, marginPercent: 40 },
    });
    expect(settings.status).toBe(200);
    expect(settings.body.effective.incentives).toMatchObject({ policy: 'learned', explorationPercent: 0 });
  });

  afterAll(async () => {
    await h?.close();
  });

  function signed(topic: string, body: string) {
    return post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-01',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });
  }

  async function history(email: string): Promise<HistoryEntry[]> {
    const key = h.runtime.vault.subjectFor(shopId, { email }) as string;
    const res = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(res.status).toBe(200);
    return res.body.entries as HistoryEntry[];
  }

  const checkout = (token: string, email: string) =>
    shopifyCheckout({ token, updatedAt: new Date().toISOString(), email, price: '100.00', billingCountry: null });

  it('no evidence: nothing offered, the steps go out without a code, history and read models say why; once 5 % pays, the next cart gets it', async () => {
    const token = `none-${randomUUID()}`;
    const recoveryId = `recovery-${shopId}-cart-${token}`;
    expect((await signed('checkouts/update', checkout(token, 'nora@example.com'))).status).toBe(200);

    // Steps 0, 1 and 2 sent; 1 and 2 would carry 5 % and 10 % under the fixed ladder.
    const entries = await eventually(async () => {
      const e = await history('nora@example.com');
      return e.filter((x) => x.kind === 'sent').length === 3 ? e : undefined;
    }, 60_000);
    const chosen = entries.filter((e) => e.kind === 'incentive-chosen');
    expect(chosen).toHaveLength(1);
    expect(chosen[0]).toMatchObject({ step: 1, reason: 'exploit' });
    expect(chosen[0].event).toMatchObject({ percent: 0, mode: 'exploit', propensity: 1, levels: [0, 5, 10] });
    expect(chosen[0].detail).toMatch(
      /^incentive 0 % for every discount step \(exploit, probability 1; segment [a-z-]+\): exploit: no level pays/,
    );
    const withheld = entries.filter((e) => e.kind === 'discount-withheld');
    expect(withheld.map((e) => [e.step, e.reason])).toEqual([
      [1, 'no-level-pays'],
      [2, 'no-level-pays'],
    ]);
    expect(withheld.map((e) => e.detail)).toEqual([
      expect.stringMatching(/^no 5 % code \(no-level-pays\)/),
      expect.stringMatching(/^no 10 % code \(no-level-pays\)/),
    ]);
    expect(entries.filter((e) => e.kind === 'sent').every((e) => e.discountCode === undefined)).toBe(true);
    expect(commerce.codes.filter((c) => c.cartId === `cart-${token}`)).toEqual([]);
    const segment = chosen[0].event.segment as string;

    // The read models: the choice (pending), both withheld steps; then the purchase settles it.
    const row = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(`SELECT * FROM read.incentive_assignments WHERE recovery_id = $1`, [
        recoveryId,
      ]);
      return rows[0];
    });
    expect(row).toMatchObject({ shop_id: shopId, step: 1, segment, level: 0, mode: 'exploit', levels: [0, 5, 10] });
    expect(Number(row.propensity)).toBe(1);
    const withheldRows = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT step, reason, percent FROM read.discounts_withheld WHERE recovery_id = $1 ORDER BY step`,
        [recoveryId],
      );
      return rows.length === 2 ? rows : undefined;
    });
    expect(withheldRows).toEqual([
      { step: 1, reason: 'no-level-pays', percent: 5 },
      { step: 2, reason: 'no-level-pays', percent: 10 },
    ]);
    expect(
      (
        await signed(
          'orders/create',
          shopifyOrder({ checkoutToken: token, orderId: '7700000000000000001', placedAt: new Date().toISOString() }),
        )
      ).status,
    ).toBe(200);
    const settled = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT outcome, end_reason FROM read.incentive_assignments WHERE recovery_id = $1 AND outcome IS NOT NULL`,
        [recoveryId],
      );
      return rows[0];
    });
    expect(settled).toEqual({ outcome: 'recovered', end_reason: 'purchased' });
    const uplift = await h.runtime.pool.query(
      `SELECT level, assigned, recovered FROM read.incentive_uplift WHERE shop_id = $1 AND segment = $2 ORDER BY level`,
      [shopId, segment],
    );
    expect(uplift.rows).toEqual([
      { level: 0, assigned: 1, recovered: 1 },
      { level: 5, assigned: 0, recovered: 0 },
      { level: 10, assigned: 0, recovered: 0 },
    ]);
    const counts = await h.runtime.pool.query(
      `SELECT reason, steps, recoveries FROM read.discount_withheld_counts WHERE shop_id = $1`,
      [shopId],
    );
    expect(counts.rows).toEqual([{ reason: 'no-level-pays', steps: 2, recoveries: 1 }]);
    // The engine's own numbers, as the dashboard's Discounts panel shows them.
    const report = await api(h, 'GET', `/api/shops/${shopId}/incentives`, undefined, ANALYST_TOKEN);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ policy: 'learned', explorationPercent: 0, marginPercent: 40 });
    const mine = report.body.segments.find((s: { segment: string }) => s.segment === segment);
    expect(mine.exploitPercent).toBe(0);
    expect(mine.levels.find((l: { percent: number }) => l.percent === 0)).toMatchObject({ assigned: 1, recovered: 1 });

    // Once the segment's log shows 5 % paying (outcomes recorded as the engine records them)…
    const plan = [
      { percent: 0, n: 20, won: 2 },
      { percent: 5, n: 20, won: 12 },
      { percent: 10, n: 20, won: 13 },
    ];
    const at = new Date(Date.now() - 60_000).toISOString();
    let k = 0;
    for (const p of plan) {
      for (let i = 0; i < p.n; i++) {
        const id = `recovery-${shopId}-cart-seed-${k++}`;
        const bought = i < p.won;
        const data = [
          {
            type: 'recovery.incentive-chosen',
            data: {
              recoveryId: id,
              at,
              step: 1,
              percent: p.percent,
              propensity: 0.25,
              mode: 'explore',
              segment,
              expectedIncrementalProfit: { '0': '0.00', '5': '0.00', '10': '0.00' },
              reason: 'explore',
              levels: [0, 5, 10],
              draw: 0.1,
            },
          },
          { type: 'recovery.ended', data: { recoveryId: id, at, reason: bought ? 'purchased' : 'completed' } },
        ];
        await h.runtime.store.append(
          id,
          data.map((e) => ({ id: randomUUID(), type: e.type, schemaVersion: 1, data: e.data, metadata: { shopId } })),
          'no_stream',
        );
      }
    }
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM engine.incentive_assignments WHERE shop_id = $1 AND ended_at IS NOT NULL`,
        [shopId],
      );
      return rows[0].n === 61 ? true : undefined;
    });
    // …the domain's choice on that evidence (the first cart's purchase included) is 5 %…
    const expected = incentiveDistribution({
      ladder: [5, 10],
      cartValue: '100.00',
      segment,
      settings: { ...DEFAULT_INCENTIVE_SETTINGS, policy: 'learned', explorationPercent: 0, marginPercent: 40 },
      evidence: {
        segment,
        levels: plan
          .map((p) => (p.percent === 0 ? { ...p, n: p.n + 1, won: p.won + 1 } : p))
          .map((p) => ({
            percent: p.percent,
            assigned: p.n,
            recovered: p.won,
          })),
      },
    });
    expect(expected.best).toBe(5);

    // …and the next cart gets it on every discount step, with codes from the store.
    const paid = `paid-${randomUUID()}`;
    expect((await signed('checkouts/update', checkout(paid, 'pam@example.com'))).status).toBe(200);
    const paidEntries = await eventually(async () => {
      const e = await history('pam@example.com');
      return e.filter((x) => x.kind === 'sent').length === 3 ? e : undefined;
    }, 60_000);
    const paidChoice = paidEntries.find((e) => e.kind === 'incentive-chosen');
    expect(paidChoice?.event).toMatchObject({ percent: 5, mode: 'exploit', propensity: 1, segment });
    expect(paidChoice?.detail).toContain('exploit: 5 % has the highest expected incremental profit');
    expect(paidEntries.filter((e) => e.kind === 'discount-withheld')).toEqual([]);
    expect(commerce.codes.filter((c) => c.cartId === `cart-${paid}`).map((c) => c.percent)).toEqual([5, 5]);
    const paidRow = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT level, mode, sent_discount_percent FROM read.incentive_assignments
          WHERE recovery_id = $1 AND sent_discount_percent = 5`,
        [`recovery-${shopId}-cart-${paid}`],
      );
      return rows[0];
    });
    expect(paidRow).toEqual({ level: 5, mode: 'exploit', sent_discount_percent: 5 });
  }, 180_000);

  it('a customer who buys with recovery codes again and again is detected as a code farmer and gets no more codes', async () => {
    const domain = 'code-farm.myshopify.com';
    const secret = 'shpss_code_farm';
    const shop = await registerShop(h, {
      platform: 'shopify',
      shopDomain: domain,
      webhookSecret: secret,
      timezone: afternoonZone(new Date()),
    });
    // The fixed ladder (0 %, 5 %, 10 %); nothing but the farming rule may hold a step back.
    expect(
      (
        await api(h, 'PUT', `/api/shops/${shop.id}/settings`, {
          mode: 'live',
          fatigue: { enabled: false },
          engagementScore: { enabled: false },
        })
      ).status,
    ).toBe(200);
    const send = (topic: string, body: string) =>
      post(h, '/webhooks/shopify', body, {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-shop-domain': domain,
        'x-shopify-api-version': '2025-01',
        'x-shopify-webhook-id': randomUUID(),
        'x-shopify-hmac-sha256': hmacBase64(secret, body),
      });
    const email = 'fay.farmer@example.com';
    const key = h.runtime.vault.subjectFor(shop.id, { email }) as string;
    const historyOf = async (recoveryId: string) => {
      const res = await api(h, 'GET', `/api/customers/${shop.id}/${key}/history`, undefined, ANALYST_TOKEN);
      expect(res.status).toBe(200);
      return (res.body.entries as (HistoryEntry & { recoveryId: string })[]).filter((e) => e.recoveryId === recoveryId);
    };
    for (let n = 0; n < 3; n++) {
      const token = `farm-${n}-${randomUUID()}`;
      const recoveryId = `recovery-${shop.id}-cart-${token}`;
      expect((await send('checkouts/update', checkout(token, email))).status).toBe(200);
      if (n < 2) {
        // Step 1 carries a 5 % code; the customer orders with it.
        const code = await eventually(async () => {
          const sent = (await historyOf(recoveryId)).find((e) => e.kind === 'sent' && e.step === 1);
          return sent?.discountCode;
        }, 60_000);
        expect(commerce.codes.find((c) => c.cartId === `cart-${token}`)).toMatchObject({ code, percent: 5 });
        const order = shopifyOrder({
          checkoutToken: token,
          orderId: `880000000000000${n}`,
          placedAt: new Date().toISOString(),
        })
          .replace(/ada@example\.com/g, email)
          .replace(
            '"discount_codes": []',
            `"discount_codes": [{"code": "${code}", "amount": "12.45", "type": "percentage"}]`,
          );
        expect((await send('orders/create', order)).status).toBe(200);
        await eventually(async () => (await historyOf(recoveryId)).find((e) => e.kind === 'ended'), 60_000);
        // The next cart comes later than PURCHASE_GRACE after this order (else it counts as bought already).
        await new Promise((r) => setTimeout(r, 2_500));
        continue;
      }
      // Third time: two code purchases of two orders — a code farmer; step 1 goes out without a code.
      const entries = await eventually(async () => {
        const e = await historyOf(recoveryId);
        return e.some((x) => x.kind === 'sent' && x.step === 2) ? e : undefined;
      }, 60_000);
      const withheld = entries.filter((e) => e.kind === 'discount-withheld');
      expect(withheld.map((e) => [e.step, e.reason])).toEqual([
        [1, 'code-farmer'],
        [2, 'code-farmer'],
      ]);
      expect(withheld[0].detail).toMatch(/^no 5 % code \(code-farmer\): /);
      expect(entries.filter((e) => e.kind === 'sent').map((e) => e.discountCode)).toEqual([
        undefined,
        undefined,
        undefined,
      ]);
      expect(commerce.codes.filter((c) => c.cartId === `cart-${token}`)).toEqual([]);
      // A farmer gets no incentive choice (it would contaminate the arms).
      expect(entries.filter((e) => e.kind === 'incentive-chosen')).toEqual([]);
    }
    const farmer = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT customer_key, detections, code_purchases, orders, code_order_share::float AS share
           FROM read.code_farmers WHERE shop_id = $1`,
        [shop.id],
      );
      return rows[0];
    });
    expect(farmer).toEqual({ customer_key: key, detections: 1, code_purchases: 2, orders: 2, share: 1 });
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM read.discounts_withheld WHERE shop_id = $1 AND reason = 'code-farmer'`,
        [shop.id],
      );
      return rows[0].n === 2 ? true : undefined;
    });
    const report = await api(h, 'GET', `/api/shops/${shop.id}/incentives`, undefined, ANALYST_TOKEN);
    expect(report.body.codeFarmers).toMatchObject({ count: 1, latest: [{ customerKey: key, codePurchases: 2 }] });
    expect(report.body.withheld).toEqual([expect.objectContaining({ reason: 'code-farmer', steps: 2, recoveries: 1 })]);
  }, 240_000);
});
