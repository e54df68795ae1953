/**
 * Experiments of step variants (issue 15, item 1; RFC 0016) through the running appliance: a
 * shop whose first step has two subject-line variants runs 20 abandoned carts through signed
 * Shopify webhooks; each recovery records its Thompson assignment with a propensity, the e-mail
 * carries the variant's subject, the shoppers who got `urgent` buy (orders/create), the others do
 * not; once the attribution window has closed the evaluation adopts `urgent` and closes the
 * experiment, and the next cart gets it with mode `adopted`. A manual clock moves the engine.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelMessage, ChannelPort } from '@reclaim/ports';
import { ManualClock } from '@reclaim/testing/fakes';
import { ANALYST_TOKEN, api, eventually, hmacBase64, post, startHarness, type Harness } from './support/harness';
import { shopifyCheckout, shopifyOrder } from './support/payloads';

const SECRET = 'shpss_experiments';
const DOMAIN = 'experiments.myshopify.com';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CARTS = 20;

class CapturingEmail implements ChannelPort {
  readonly accepted: ChannelMessage[] = [];
  async send(message: ChannelMessage): Promise<{ messageId: string }> {
    this.accepted.push(message);
    return { messageId: `exp-${this.accepted.length}` };
  }
  async lookup(): Promise<{ status: 'not-sent' }> {
    return { status: 'not-sent' };
  }
}

interface Assignment {
  recovery_id: string;
  variant_id: string;
  propensity: number;
  mode: string;
  experiment_id: string;
}

describe('experiments: Thompson assignment with propensities, adoption after enough rewards', () => {
  const clock = new ManualClock('2026-12-07T09:00:00.000Z');
  const email = new CapturingEmail();
  let h: Harness;
  let shopId = '';
  const tokens: string[] = [];

  const signed = (topic: string, body: string) =>
    post(h, '/webhooks/shopify', body, {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-shop-domain': DOMAIN,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-hmac-sha256': hmacBase64(SECRET, body),
    });

  const assignments = async (): Promise<Assignment[]> =>
    (
      await h.runtime.pool.query<Assignment>(
        `SELECT recovery_id, variant_id, propensity, mode, experiment_id FROM engine.variant_assignments
          WHERE shop_id = $1 ORDER BY decided_at, recovery_id`,
        [shopId],
      )
    ).rows;

  async function abandon(token: string, n: number): Promise<void> {
    const body = shopifyCheckout({
      token,
      updatedAt: clock.now().toISOString(),
      email: `shopper-${n}@example.com`,
      price: '80.00',
      phone: null,
    });
    expect((await signed('checkouts/update', body)).status).toBe(200);
  }

  beforeAll(async () => {
    h = await startHarness(
      {
        ABANDON_AFTER: '1h',
        FOLLOW_UP_DELAYS: '3h',
        HOLDOUT_PERCENT: '0',
        TIMER_TICK: '200ms',
        PUBLIC_URL: 'https://reclaim.test',
        MERCHANT_POSTAL_ADDRESS: '1 Test Street, York YO1 7HH',
      },
      { clock, adapters: { channels: { email } } },
    );
    const res = await api(h, 'POST', '/api/shops', {
      platform: 'shopify',
      shopDomain: DOMAIN,
      webhookSecret: SECRET,
      apiUrl: `https://${DOMAIN}/admin/api/2025-10`,
      apiToken: 'shpat_experiments',
      currency: 'USD',
      timezone: 'UTC',
    });
    expect(res.status).toBe(201);
    shopId = res.body.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('refuses bad variants and bad experiment settings, naming the field', async () => {
    const bad = await api(h, 'PUT', `/api/shops/${shopId}/sequences`, {
      sequences: [
        {
          id: 'welcome',
          version: 1,
          match: {},
          steps: [
            {
              index: 0,
              delayMs: 0,
              channels: ['email'],
              discountPercent: 0,
              template: 'welcome-0',
              variants: [{ id: 'a' }, { id: 'a', discountPercent: 120 }],
            },
          ],
        },
      ],
    });
    expect(bad.status).toBe(400);
    const text = JSON.stringify(bad.body);
    expect(text).toContain('sequences[0].steps[0].variants[1].id');
    expect(text).toContain('sequences[0].steps[0].variants[1].discountPercent');
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      experiments: { adoptThreshold: 2, colour: 'red' },
    });
    expect(settings.status).toBe(400);
    expect(JSON.stringify(settings.body)).toContain('experiments.adoptThreshold');
    expect(JSON.stringify(settings.body)).toContain('experiments.colour');
  });

  it('assigns by Thompson sampling with propensities, then adopts the variant that earns', async () => {
    const put = await api(h, 'PUT', `/api/shops/${shopId}/sequences`, {
      sequences: [
        {
          id: 'welcome',
          version: 1,
          match: {},
          steps: [
            {
              index: 0,
              delayMs: 0,
              channels: ['email'],
              discountPercent: 0,
              template: 'welcome-0',
              variants: [{ id: 'control' }, { id: 'urgent', subject: 'Last call, {{shop.name}}: your cart expires' }],
            },
            { index: 1, delayMs: 3 * HOUR, channels: ['email'], discountPercent: 0, template: 'welcome-1' },
          ],
        },
      ],
    });
    expect(put.status).toBe(200);
    const settings = await api(h, 'PUT', `/api/shops/${shopId}/settings`, {
      experiments: { enabled: true, minSamplesPerVariant: 3 },
    });
    expect(settings.status).toBe(200);

    for (let n = 0; n < CARTS; n++) {
      const token = `exp-${n}-${randomUUID()}`;
      tokens.push(token);
      await abandon(token, n);
    }
    clock.advance(HOUR + 1_000);
    const assigned = await eventually(async () => {
      const rows = await assignments();
      return rows.length === CARTS ? rows : undefined;
    }, 60_000);
    // Before any reward both variants are equally likely: every propensity near 1/2.
    for (const a of assigned) {
      expect(a.mode).toBe('thompson');
      expect(['control', 'urgent']).toContain(a.variant_id);
      expect(a.propensity).toBeGreaterThan(0.4);
      expect(a.propensity).toBeLessThan(0.6);
    }
    const urgent = assigned.filter((a) => a.variant_id === 'urgent');
    expect(urgent.length).toBeGreaterThanOrEqual(3);
    expect(CARTS - urgent.length).toBeGreaterThanOrEqual(3);

    // Step 0 goes out with the variant's subject line.
    await eventually(async () => (email.accepted.length >= CARTS ? true : undefined), 60_000);
    const subjects = email.accepted.map((m) => m.subject ?? '');
    expect(subjects.filter((s) => s.startsWith('Last call')).length).toBe(urgent.length);

    // The customer history says which variant and why.
    const first = assigned[0];
    const cartId = first.recovery_id.slice(`recovery-${shopId}-`.length);
    const n = tokens.findIndex((t) => cartId.includes(t));
    const key = h.runtime.vault.subjectFor(shopId, { email: `shopper-${n}@example.com` }) as string;
    const history = await api(h, 'GET', `/api/customers/${shopId}/${key}/history`, undefined, ANALYST_TOKEN);
    expect(history.status).toBe(200);
    const entry = (history.body.entries as { kind: string; detail?: string; variant?: { variantId: string } }[]).find(
      (e) => e.kind === 'variant-assigned',
    );
    expect(entry?.variant?.variantId).toBe(first.variant_id);
    expect(entry?.detail).toMatch(/Thompson sampling from 0 settled recoveries/);

    // The shoppers who got `urgent` buy; the others do not.
    for (const [i, a] of urgent.entries()) {
      const token = tokens.find((t) => a.recovery_id.endsWith(t) || a.recovery_id.includes(t));
      expect(token).toBeDefined();
      const order = shopifyOrder({ checkoutToken: token!, orderId: `77000000000000${String(i).padStart(4, '0')}` });
      expect((await signed('orders/create', order)).status).toBe(200);
    }
    await eventually(async () => {
      const { rows } = await h.runtime.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM engine.variant_outcomes o JOIN engine.variant_assignments a USING (recovery_id)
          WHERE a.shop_id = $1 AND o.purchased_at IS NOT NULL`,
        [shopId],
      );
      return rows[0].n === urgent.length ? true : undefined;
    }, 60_000);

    // Nothing is adopted while the non-buyers' rewards are pending (their attribution window is open).
    const early = await api(h, 'POST', `/api/shops/${shopId}/experiments/evaluate`);
    expect(early.status).toBe(200);
    expect(early.body.events['experiment.variant-adopted']).toBeUndefined();

    // Six days later every reward is settled: `urgent` is adopted and the experiment closes.
    clock.advance(6 * DAY);
    const evaluated = await api(h, 'POST', `/api/shops/${shopId}/experiments/evaluate`);
    expect(evaluated.status).toBe(200);
    expect(evaluated.body.events).toMatchObject({ 'experiment.variant-adopted': 1, 'experiment.closed': 1 });
    const report = await api(h, 'GET', `/api/shops/${shopId}/experiments`, undefined, ANALYST_TOKEN);
    expect(report.status).toBe(200);
    const [experiment] = report.body.experiments;
    expect(experiment).toMatchObject({ status: 'closed', closeReason: 'adopted', adoptedVariantId: 'urgent', step: 0 });
    const arms = Object.fromEntries(
      (experiment.arms as { variantId: string; recovered: number; settled: number; netRevenue: number }[]).map((a) => [
        a.variantId,
        a,
      ]),
    );
    expect(arms.urgent).toMatchObject({
      recovered: urgent.length,
      settled: urgent.length,
      netRevenue: 249 * urgent.length,
    });
    expect(arms.control).toMatchObject({ recovered: 0, settled: CARTS - urgent.length });
    expect(experiment.history.map((x: { type: string }) => x.type)).toEqual([
      'experiment.opened',
      'experiment.variant-adopted',
      'experiment.closed',
    ]);
    expect(experiment.history[1].detail.probabilityBest).toBeGreaterThan(0.95);

    // The analysts' read models: the experiment, its arms as last evaluated, every assignment.
    const row = await eventually(async () => {
      const { rows } = await h.runtime.pool.query(
        `SELECT status, close_reason, adopted_variant_id, evaluations, adopted_probability_best::float AS p
           FROM read.experiments WHERE shop_id = $1`,
        [shopId],
      );
      return rows[0]?.status === 'closed' ? rows[0] : undefined;
    }, 30_000);
    expect(row).toMatchObject({ close_reason: 'adopted', adopted_variant_id: 'urgent' });
    expect(row.p).toBeGreaterThan(0.95);
    expect(row.evaluations).toBeGreaterThanOrEqual(1);
    const armRows = await h.runtime.pool.query(
      `SELECT variant_id, status, recovered, settled, net_revenue::float AS net FROM read.experiment_arms
        WHERE shop_id = $1 ORDER BY variant_id`,
      [shopId],
    );
    expect(armRows.rows).toEqual([
      { variant_id: 'control', status: 'running', recovered: 0, settled: CARTS - urgent.length, net: 0 },
      {
        variant_id: 'urgent',
        status: 'adopted',
        recovered: urgent.length,
        settled: urgent.length,
        net: 249 * urgent.length,
      },
    ]);
    const logged = await h.runtime.pool.query<{ n: number; min: number; max: number }>(
      `SELECT count(*)::int AS n, min(propensity)::float AS min, max(propensity)::float AS max
         FROM read.variant_assignments WHERE shop_id = $1 AND mode = 'thompson'`,
      [shopId],
    );
    expect(logged.rows[0].n).toBe(CARTS);
    expect(logged.rows[0].min).toBeGreaterThan(0.4);
    expect(logged.rows[0].max).toBeLessThan(0.6);

    // The next cart gets the adopted variant, with certainty.
    await abandon(`exp-after-${randomUUID()}`, 99);
    clock.advance(HOUR + 1_000);
    const adopted = await eventually(async () => {
      const rows = await assignments();
      return rows.length === CARTS + 1 ? rows[rows.length - 1] : undefined;
    }, 60_000);
    expect(adopted).toMatchObject({ variant_id: 'urgent', mode: 'adopted', propensity: 1 });
  }, 240_000);
});
