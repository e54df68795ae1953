/**
 * The learned discounts' read models on a real PostgreSQL (RFC 0017): the `incentives` projection
 * run incrementally in small batches equals a fresh rebuild; `read.incentive_uplift` gives the
 * domain's `levelPosteriors` numbers on the same final outcomes; net revenue, withheld counts and
 * code farmers as the events say; a shop's redaction removes its rows.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '@reclaim/database';
import { levelPosteriors, recoveryIdFor } from '@reclaim/domain';
import { ensureCheckpointTable, PostgresEventStore, type EventStore, type NewEvent } from '@reclaim/event-store';
import { migrateReadModels } from '../migrate';
import { CODE_FARMERS, DISCOUNTS_WITHHELD, INCENTIVE_ASSIGNMENTS, qualified } from '../schema';
import { getCheckpoint, getHeadPosition, comparePositions } from '@reclaim/event-store';
import { incentivesProjection } from './incentives';
import { rebuildProjection, runProjection } from '.';

const LEVELS = [0, 5, 10];
const SEGMENT = 'price-sensitive';
/** Per level: recovered, not recovered (ended otherwise), still open. */
const PLAN: Record<number, [number, number, number]> = { 0: [3, 7, 2], 5: [4, 6, 0], 10: [4, 1, 1] };

const env = (shopId: string, type: string, data: Record<string, unknown>): NewEvent => ({
  id: randomUUID(),
  type,
  schemaVersion: 1,
  data,
  metadata: { shopId },
});

function recoveryEvents(
  shopId: string,
  n: number,
  level: number,
  outcome: 'recovered' | 'lost' | 'open',
  mode?: 'fixed' | 'ladder',
): NewEvent[] {
  const recoveryId = recoveryIdFor(shopId, `cart-${level}-${n}`);
  const at = (minutes: number) => new Date(Date.UTC(2026, 11, 1, 10, minutes)).toISOString();
  const out: NewEvent[] = [
    env(shopId, 'recovery.incentive-chosen', {
      recoveryId,
      at: at(0),
      step: 1,
      percent: level,
      propensity: level === 10 ? 0.8667 : 0.0667,
      mode: mode ?? (level === 10 ? 'exploit' : 'explore'),
      segment: SEGMENT,
      expectedIncrementalProfit: { '0': '0.00', '5': '-1.20', '10': '0.80' },
      reason: 'test',
      levels: LEVELS,
      draw: 0.5,
    }),
  ];
  if (level > 0) {
    out.push(
      env(shopId, 'recovery.message-sent', {
        recoveryId,
        at: at(1),
        step: 1,
        channel: 'email',
        messageId: `m-${n}`,
        idempotencyKey: `${recoveryId}:1:email`,
        sent: { discount: { percent: level, expiresAt: at(100) } },
      }),
    );
  } else {
    out.push(
      env(shopId, 'recovery.discount-withheld', {
        recoveryId,
        at: at(1),
        step: 1,
        reason: n % 2 === 0 ? 'incentive-control' : 'no-level-pays',
        percent: 10,
      }),
    );
  }
  if (outcome === 'recovered') {
    out.push(
      env(shopId, 'recovery.order-attributed', {
        recoveryId,
        at: at(5),
        orderId: `o-${level}-${n}`,
        step: 1,
        channel: 'email',
        messageId: `m-${n}`,
        clickedAt: at(4),
        placedAt: at(5),
        revenue: '90.00',
        currency: 'USD',
        discountUsed: level > 0,
      }),
      env(shopId, 'recovery.ended', { recoveryId, at: at(6), reason: 'purchased', orderId: `o-${level}-${n}` }),
    );
  } else if (outcome === 'lost') {
    out.push(env(shopId, 'recovery.ended', { recoveryId, at: at(30), reason: 'completed' }));
  }
  return out;
}

describe('incentives read models (PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: Pool;
  let store: EventStore;
  const shopId = randomUUID();
  const goneShop = randomUUID();

  beforeAll(async () => {
    db = await createTestDatabase('reclaim_incentives_read');
    pool = new Pool({ connectionString: db.url, max: 6 });
    await PostgresEventStore.migrate(pool);
    await ensureCheckpointTable(pool);
    await migrateReadModels(pool, db.url);
    store = new PostgresEventStore({ pool });
  });

  afterAll(async () => {
    await store?.close();
    await pool?.end();
    await db?.drop();
  });

  async function appendShop(id: string): Promise<void> {
    for (const level of LEVELS) {
      const [won, lost, open] = PLAN[level];
      let n = 0;
      for (const [count, outcome] of [
        [won, 'recovered'],
        [lost, 'lost'],
        [open, 'open'],
      ] as const) {
        for (let i = 0; i < count; i++, n++) {
          const events = recoveryEvents(id, n, level, outcome);
          await store.append(recoveryIdFor(id, `cart-${level}-${n}`), events, 'any');
        }
      }
    }
    // Recoveries that played the ladder: evidence of no single level, left out of the uplift.
    for (const [n, level, outcome, mode] of [
      [100, 10, 'recovered', 'ladder'],
      [101, 5, 'lost', 'fixed'],
    ] as const) {
      await store.append(recoveryIdFor(id, `cart-${level}-${n}`), recoveryEvents(id, n, level, outcome, mode), 'any');
    }
    // A code farmer (no incentive choice: the step went without a code), detected twice.
    const farmerRecovery = recoveryIdFor(id, 'farmer-cart');
    await store.append(
      farmerRecovery,
      [
        env(id, 'recovery.discount-withheld', {
          recoveryId: farmerRecovery,
          at: '2026-12-01T12:00:00.000Z',
          step: 1,
          reason: 'code-farmer',
          percent: 10,
          detail: '3 code purchases of 4 orders',
        }),
      ],
      'any',
    );
    const purchase = (k: number) => ({
      recoveryId: recoveryIdFor(id, `old-${k}`),
      orderId: `old-o-${k}`,
      code: `CODE${k}`,
      placedAt: '2026-11-01T00:00:00.000Z',
    });
    for (const purchases of [2, 3]) {
      await store.append(
        `customer-${id}-e-farmer`,
        [
          env(id, 'customer.code-farming-detected', {
            shopId: id,
            causationId: randomUUID(),
            receivedAt: `2026-12-0${purchases}T00:00:00.000Z`,
            customerKey: 'e-farmer',
            detectedAt: `2026-12-0${purchases}T00:00:00.000Z`,
            evidence: {
              codePurchases: Array.from({ length: purchases }, (_, k) => purchase(k)),
              orders: 4,
              codeOrderShare: purchases / 4,
              windowDays: 180,
              minCodePurchases: 2,
              minCodeOrderShare: 0.5,
            },
          }),
        ],
        'any',
      );
    }
  }

  async function tables(): Promise<Record<string, unknown[]>> {
    const out: Record<string, unknown[]> = {};
    for (const t of [INCENTIVE_ASSIGNMENTS, DISCOUNTS_WITHHELD, CODE_FARMERS]) {
      out[t.name] = (await pool.query(`SELECT * FROM ${qualified(t)} ORDER BY ${t.key.join(', ')}`)).rows;
    }
    return out;
  }

  it('folds choices, outcomes, withheld discounts and farmers; incremental equals a rebuild', async () => {
    await appendShop(shopId);
    await appendShop(goneShop);
    await store.append(
      `shop-${goneShop}`,
      [
        env(goneShop, 'shop.redacted', {
          shopId: goneShop,
          causationId: randomUUID(),
          receivedAt: new Date().toISOString(),
          platform: 'shopify',
          shopDomain: 'gone.example',
        }),
      ],
      'any',
    );
    const abort = new AbortController();
    const running = runProjection(incentivesProjection, { store, pool, signal: abort.signal, batchSize: 7 });
    const head = await getHeadPosition(store);
    for (let i = 0; i < 600; i++) {
      if (comparePositions(await getCheckpoint(pool, incentivesProjection.subscription), head) >= 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    abort.abort();
    await running;
    const incremental = await tables();

    const rows = incremental.incentive_assignments as Record<string, unknown>[];
    expect(rows).toHaveLength(30);
    expect(rows.filter((r) => r.mode === 'ladder' || r.mode === 'fixed')).toHaveLength(2);
    expect(rows.every((r) => r.shop_id === shopId)).toBe(true);
    const recovered5 = rows.find((r) => r.level === 5 && r.outcome === 'recovered')!;
    expect(recovered5).toMatchObject({ segment: SEGMENT, mode: 'explore', levels: LEVELS, end_reason: 'purchased' });
    expect(recovered5).toMatchObject({ sent_discount_percent: 5, orders: 1 });
    // 90 paid at 5 % off: the discount cost 90 × 5 / 95 = 4.74.
    expect([recovered5.revenue, recovered5.discount_cost, recovered5.net_revenue]).toEqual(['90', '4.74', '85.26']);
    expect(rows.filter((r) => r.outcome === null)).toHaveLength(3);
    expect(rows.find((r) => r.level === 0 && r.outcome === 'recovered')).toMatchObject({
      net_revenue: '90',
      discount_cost: '0',
    });

    // The view gives the domain's posteriors on the same final outcomes.
    const view = (
      await pool.query<Record<string, string | number>>(
        `SELECT * FROM read.incentive_uplift WHERE shop_id = $1 ORDER BY level`,
        [shopId],
      )
    ).rows;
    const domain = levelPosteriors(
      LEVELS,
      {
        segment: SEGMENT,
        levels: LEVELS.map((l) => ({ percent: l, assigned: PLAN[l][0] + PLAN[l][1], recovered: PLAN[l][0] })),
      },
      10,
    );
    expect(view.map((v) => v.level)).toEqual(LEVELS);
    view.forEach((v, i) => {
      expect(v).toMatchObject({
        segment: SEGMENT,
        assigned: domain[i].assigned,
        recovered: domain[i].recovered,
        pending: PLAN[LEVELS[i]][2],
      });
      expect(Number(v.rate)).toBeCloseTo(domain[i].rate, 12);
      expect(Number(v.uplift)).toBeCloseTo(domain[i].uplift, 12);
      expect(Number(v.uplift_low)).toBeCloseTo(domain[i].upliftLow, 12);
      expect(Number(v.uplift_high)).toBeCloseTo(domain[i].upliftHigh, 12);
    });
    expect(Number(view[1].net_revenue)).toBeCloseTo(4 * 85.26, 6);

    const withheld = (
      await pool.query(
        `SELECT reason, steps, recoveries FROM read.discount_withheld_counts WHERE shop_id = $1 ORDER BY reason`,
        [shopId],
      )
    ).rows;
    expect(withheld).toEqual([
      { reason: 'code-farmer', steps: 1, recoveries: 1 },
      { reason: 'incentive-control', steps: 6, recoveries: 6 },
      { reason: 'no-level-pays', steps: 6, recoveries: 6 },
    ]);
    expect(incremental.code_farmers).toEqual([
      expect.objectContaining({
        shop_id: shopId,
        customer_key: 'e-farmer',
        detections: 2,
        code_purchases: 3,
        orders: 4,
        code_order_share: '0.75',
        first_detected_at: new Date('2026-12-02T00:00:00.000Z'),
        detected_at: new Date('2026-12-03T00:00:00.000Z'),
      }),
    ]);

    // A fresh rebuild writes the same rows; a replay of the log changes nothing.
    await rebuildProjection(incentivesProjection, { store, pool, batchSize: 5 });
    expect(await tables()).toEqual(incremental);
  });
});
